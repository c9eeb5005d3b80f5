// The simulated gateway adapter: addresses with lifetimes on an in-memory set of devices (an
// address is gone once its lifetime has passed, as the kernel does), announcements recorded,
// and faults: the next calls fail or hang.
import { SimFaults, sleepMs } from '../sim-faults.ts';
import { GatewayError, assertGatewayArgs, type GatewayDriver, type GatewayErrorKind, type LinkAddresses } from './port.ts';

export class SimGateway implements GatewayDriver {
  readonly faults = new SimFaults<GatewayErrorKind>('failed');
  readonly announced: Array<{ device: string; ipv4: string }> = [];
  readonly asked: Array<{ device: string; sourceIpv4: string; targetIpv4: string }> = [];
  readonly forgotten: string[] = [];
  /** Addresses of clients that answer ARP requests. */
  readonly neighbours = new Set<string>();
  /** device -> cidr -> expiry (performance.now() ms) */
  private readonly devices = new Map<string, Map<string, number>>();

  constructor(
    devices: readonly string[] = [],
    private readonly hangMs = 200,
  ) {
    for (const device of devices) this.addDevice(device);
  }

  addDevice(name: string): void {
    if (!this.devices.has(name)) this.devices.set(name, new Map());
  }

  async listAddresses(): Promise<LinkAddresses[]> {
    await this.suffer('(all)');
    const now = performance.now();
    return [...this.devices].map(([name, addresses]) => ({ name, addresses: [...addresses].filter(([, expiry]) => expiry > now).map(([cidr]) => cidr) }));
  }

  async lease(device: string, cidr: string, lifetimeS: number): Promise<void> {
    assertGatewayArgs(device, cidr, null, lifetimeS);
    await this.suffer(device);
    this.mustExist(device).set(cidr, performance.now() + lifetimeS * 1_000);
  }

  async remove(device: string, cidr: string): Promise<void> {
    assertGatewayArgs(device, cidr);
    await this.suffer(device);
    this.mustExist(device).delete(cidr);
  }

  async announce(device: string, ipv4: string): Promise<void> {
    assertGatewayArgs(device, null, ipv4);
    await this.suffer(device);
    this.mustExist(device);
    this.announced.push({ device, ipv4 });
  }

  async askNeighbour(device: string, sourceIpv4: string, targetIpv4: string): Promise<boolean> {
    assertGatewayArgs(device, null, sourceIpv4);
    assertGatewayArgs(device, null, targetIpv4);
    await this.suffer(device);
    this.mustExist(device);
    this.asked.push({ device, sourceIpv4, targetIpv4 });
    return this.neighbours.has(targetIpv4);
  }

  async forgetNeighbours(device: string): Promise<void> {
    assertGatewayArgs(device, null);
    await this.suffer(device);
    this.mustExist(device);
    this.forgotten.push(device);
  }

  private mustExist(device: string): Map<string, number> {
    const found = this.devices.get(device);
    if (!found) throw new GatewayError('not-found', device, `Cannot find device "${device}"`);
    return found;
  }

  private async suffer(device: string): Promise<void> {
    const { hang, failure } = this.faults.take();
    if (this.faults.slowMs > 0) await sleepMs(this.faults.slowMs);
    if (hang) {
      await sleepMs(this.hangMs);
      throw new GatewayError('timeout', device, `simulated hang of ${this.hangMs} ms`);
    }
    if (failure) throw new GatewayError(failure.kind, device, failure.detail);
  }
}

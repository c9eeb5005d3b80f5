// The real gateway adapter: `ip addr` (JSON output; `replace` with valid_lft/preferred_lft adds
// or renews in one call) and `busybox arping -U`, in the node's network namespace when one is
// configured (`ip -n`, `ip netns exec`).
import { ExecError, run } from '../../../common/exec.ts';
import { parseLinkAddresses } from './parse.ts';
import { GatewayError, assertGatewayArgs, type GatewayDriver, type GatewayErrorKind, type LinkAddresses } from './port.ts';

/** `ip addr` is one netlink round trip (ms); arping sends one packet and waits for none. */
export const GATEWAY_COMMAND_TIMEOUT_MS = 2_000;

function kindOf(stderr: string): GatewayErrorKind {
  const text = stderr.toLowerCase();
  if (text.includes('cannot find device') || text.includes('not found') || text.includes('no such device')) return 'not-found';
  if (text.includes('invalid') || text.includes('out of range')) return 'invalid';
  return 'failed';
}

export class IprouteGateway implements GatewayDriver {
  constructor(
    private readonly netns: string | null,
    private readonly timeoutMs = GATEWAY_COMMAND_TIMEOUT_MS,
  ) {}

  async listAddresses(): Promise<LinkAddresses[]> {
    const stdout = await this.tool('(all)', 'ip', this.ipArgs(['-json', 'addr', 'show']));
    try {
      return parseLinkAddresses(stdout);
    } catch (error) {
      throw new GatewayError('failed', '(all)', (error as Error).message, { cause: error });
    }
  }

  async lease(device: string, cidr: string, lifetimeS: number): Promise<void> {
    assertGatewayArgs(device, cidr, null, lifetimeS);
    const life = String(lifetimeS);
    // nodad: an IPv6 gateway is usable at once; pvc, not DAD, keeps it unique (one primary).
    const v6 = cidr.includes(':') ? ['nodad'] : [];
    await this.tool(device, 'ip', this.ipArgs(['addr', 'replace', cidr, 'dev', device, 'valid_lft', life, 'preferred_lft', life, ...v6]));
  }

  async remove(device: string, cidr: string): Promise<void> {
    assertGatewayArgs(device, cidr);
    try {
      await this.tool(device, 'ip', this.ipArgs(['addr', 'del', cidr, 'dev', device]));
    } catch (error) {
      // Gone already (expired, or removed by an earlier try): what was asked.
      if (error instanceof GatewayError && error.kind === 'not-found') return;
      throw error;
    }
  }

  async announce(device: string, ipv4: string): Promise<void> {
    assertGatewayArgs(device, null, ipv4);
    const arping = ['arping', '-U', '-c', '1', '-w', '1', '-I', device, '-s', ipv4, ipv4];
    if (this.netns === null) await this.tool(device, 'busybox', arping);
    else await this.tool(device, 'ip', ['netns', 'exec', this.netns, 'busybox', ...arping]);
  }

  async askNeighbour(device: string, sourceIpv4: string, targetIpv4: string): Promise<boolean> {
    assertGatewayArgs(device, null, sourceIpv4);
    assertGatewayArgs(device, null, targetIpv4);
    const arping = ['arping', '-c', '1', '-w', '1', '-I', device, '-s', sourceIpv4, targetIpv4];
    try {
      if (this.netns === null) await this.tool(device, 'busybox', arping);
      else await this.tool(device, 'ip', ['netns', 'exec', this.netns, 'busybox', ...arping]);
      return true;
    } catch (error) {
      // arping exits 1 when no answer came: the client is gone or silent, not a failure of ours.
      const cause = error instanceof GatewayError ? error.cause : null;
      if (cause instanceof ExecError && cause.exitCode === 1 && cause.stderr.trim() === '') return false;
      throw error;
    }
  }

  async forgetNeighbours(device: string): Promise<void> {
    assertGatewayArgs(device, null);
    await this.tool(device, 'ip', this.ipArgs(['neigh', 'flush', 'dev', device]));
  }

  private ipArgs(args: string[]): string[] {
    return this.netns === null ? args : ['-n', this.netns, ...args];
  }

  private async tool(device: string, file: string, args: string[]): Promise<string> {
    try {
      return (await run(file, args, { timeoutMs: this.timeoutMs })).stdout;
    } catch (error) {
      if (!(error instanceof ExecError)) throw error;
      if (error.timedOut) throw new GatewayError('timeout', device, `${file} did not finish in ${this.timeoutMs} ms`, { cause: error });
      throw new GatewayError(kindOf(error.stderr), device, error.stderr.trim() || error.message, { cause: error });
    }
  }
}

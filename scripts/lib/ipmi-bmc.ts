// Real BMCs for tests and the local cluster: one `ipmi_sim` (Debian's openipmi) per fake node,
// each on its own loopback UDP port, with a real RMCP+ stack that ipmitool talks to. Power is
// backed by a chassis_control script (variant A of docs in real-components.md §8) that keeps the
// power state in a file and, on every change, asks this process (an HTTP callback on loopback,
// answered before the script returns) to act it out: a test's power-off callback SIGKILLs that
// node's pvcd and destroys its VMs, so the power off is complete by the time ipmitool reports it.
// Faults: a BMC is made unreachable by freezing its ipmi_sim (SIGSTOP) and reachable again with
// SIGCONT. Variant A has no startcmd, so stopping ipmi_sim orphans nothing.
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnBackground } from '../../common/exec.ts';
import { IpmitoolDriver } from '../../daemon/drivers/ipmi/ipmitool.ts';
import type { BmcTarget, PowerState } from '../../daemon/drivers/ipmi/port.ts';
import { signalIfAlive, waitGone } from './pvcd-process.ts';

/** ipmi_sim answers ~60 ms after start; this is the backstop on a busy machine. */
const READY_TIMEOUT_MS = 20_000;
const READY_POLL_MS = 50;
const STOP_GRACE_MS = 3_000;
/** The chassis script's wait for this process to act out a power change. */
const CALLBACK_TIMEOUT_S = 20;
export const BMC_USERNAME = 'admin';
const LOOPBACK = '127.0.0.1';

export interface BmcFleetOptions {
  /** Folder for configs, state and logs; wiped per BMC on start. */
  dir: string;
  nodes: readonly string[];
  /** The admin password every BMC accepts (tests only). */
  password: string;
  /** The local address the BMCs listen on; default 127.0.0.1. A test whose nodes run in network
   *  namespaces gives the host end of their link, which both they and this host reach. */
  address?: string;
  /** Runs when a node's power goes off or on; the BMC reports the change only after it returns. */
  onPower?: (node: string, state: PowerState) => void | Promise<void>;
}

interface RunningBmc {
  node: string;
  pid: number;
  target: BmcTarget;
  powerFile: string;
}

export class BmcFleet {
  private constructor(
    private readonly bmcs: Map<string, RunningBmc>,
    private readonly server: http.Server,
  ) {}

  static async start(options: BmcFleetOptions): Promise<BmcFleet> {
    mkdirSync(options.dir, { recursive: true });
    const server = await startCallbackServer(options.onPower);
    const callbackPort = (server.address() as AddressInfo).port;
    const script = writeChassisScript(options.dir, callbackPort);
    const ports = await findFreeUdpPorts(options.nodes.length, options.address ?? LOOPBACK);
    const bmcs = new Map<string, RunningBmc>();
    const fleet = new BmcFleet(bmcs, server);
    try {
      options.nodes.forEach((node, index) => bmcs.set(node, startOne(options, node, ports[index] as number, script)));
      await Promise.all([...bmcs.values()].map((bmc) => waitReady(bmc)));
    } catch (error) {
      await fleet.stop();
      throw error;
    }
    return fleet;
  }

  target(node: string): BmcTarget {
    return this.get(node).target;
  }

  /** The power state as the chassis script keeps it (what the BMC would report). */
  power(node: string): PowerState {
    return readPower(this.get(node).powerFile);
  }

  /** Freezes (true) or thaws (false) the node's ipmi_sim: a frozen BMC answers nothing. */
  setUnreachable(node: string, unreachable: boolean): void {
    signalIfAlive(this.get(node).pid, unreachable ? 'SIGSTOP' : 'SIGCONT');
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.bmcs.values()].map(async (bmc) => {
        signalIfAlive(bmc.pid, 'SIGCONT');
        signalIfAlive(bmc.pid, 'SIGTERM');
        if (!(await waitGone(bmc.pid, STOP_GRACE_MS))) {
          signalIfAlive(bmc.pid, 'SIGKILL');
          await waitGone(bmc.pid, STOP_GRACE_MS);
        }
      }),
    );
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private get(node: string): RunningBmc {
    const bmc = this.bmcs.get(node);
    if (!bmc) throw new Error(`no bmc started for node ${node}`);
    return bmc;
  }
}

function startOne(options: BmcFleetOptions, node: string, port: number, script: string): RunningBmc {
  const dir = path.join(options.dir, node);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'state'), { recursive: true });
  const powerFile = path.join(dir, 'power');
  writeFileSync(powerFile, '1\n');
  writeFileSync(path.join(dir, 'node.emu'), ['mc_setbmc 0x20', 'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr', 'sel_enable 0x20 1000 0x0a', 'mc_enable 0x20', ''].join('\n'));
  const auths = 'none md2 md5 straight';
  const lan = [
    `name "${node}"`,
    'set_working_mc 0x20',
    '  startlan 1',
    `    addr ${options.address ?? LOOPBACK} ${port}`,
    '    priv_limit admin',
    ...['callback', 'user', 'operator', 'admin'].map((level) => `    allowed_auths_${level} ${auths}`),
    '    guid a123456789abcdefa123456789abcdef',
    '  endlan',
    `  chassis_control "${script} ${node} ${powerFile}"`,
    `  user 2 true "${BMC_USERNAME}" "${options.password}" admin 10 ${auths}`,
    '',
  ].join('\n');
  const lanPath = path.join(dir, 'lan.conf');
  writeFileSync(lanPath, lan, { mode: 0o600 });
  const pid = spawnBackground('ipmi_sim', ['-c', lanPath, '-f', path.join(dir, 'node.emu'), '-s', path.join(dir, 'state'), '-n'], { logFile: path.join(dir, 'ipmi_sim.log'), detached: false });
  return { node, pid, target: { host: options.address ?? LOOPBACK, port, username: BMC_USERNAME, password: options.password }, powerFile };
}

/** The chassis_control program: `chassis.sh NODE POWERFILE get power` / `... set power 0|1`. */
function writeChassisScript(dir: string, callbackPort: number): string {
  const script = path.join(dir, 'chassis.sh');
  writeFileSync(
    script,
    `#!/bin/sh
node=$1; st=$2; op=$3; shift 3
case $op in
  get) for p in "$@"; do case $p in power) echo "power:$(cat "$st")";; boot) echo "boot:default";;
         *) echo "Invalid parameter: $p"; exit 1;; esac; done ;;
  set) while [ $# -ge 2 ]; do case $1 in
         power) if [ "$(cat "$st")" != "$2" ]; then
                  curl -sf -m ${CALLBACK_TIMEOUT_S} -X POST "http://127.0.0.1:${callbackPort}/power/$node/$2" >/dev/null || exit 1
                  echo "$2" > "$st"
                fi ;;
         reset|boot|shutdown|identify) ;;
         *) echo "Invalid parameter: $1"; exit 1;;
       esac; shift 2; done ;;
  *) exit 1;;
esac
`,
  );
  chmodSync(script, 0o755);
  return script;
}

function startCallbackServer(onPower: BmcFleetOptions['onPower']): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const match = /^\/power\/([a-z0-9-]+)\/([01])$/.exec(request.url ?? '');
    request.resume();
    if (request.method !== 'POST' || !match) {
      response.statusCode = 404;
      response.end();
      return;
    }
    const state: PowerState = match[2] === '1' ? 'on' : 'off';
    Promise.resolve(onPower?.(match[1] as string, state)).then(
      () => response.end('ok'),
      () => {
        response.statusCode = 500;
        response.end();
      },
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function readPower(file: string): PowerState {
  return readFileSync(file, 'utf8').trim() === '0' ? 'off' : 'on';
}

async function waitReady(bmc: RunningBmc): Promise<void> {
  const driver = new IpmitoolDriver({ timeoutMs: 2_000 });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      await driver.powerStatus(bmc.target);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`ipmi_sim for ${bmc.node} on udp port ${bmc.target.port} did not answer within ${READY_TIMEOUT_MS} ms`, { cause: error });
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}

/** Free UDP ports on `address` (the kernel picks them; all sockets stay open until each is known). */
async function findFreeUdpPorts(count: number, address: string): Promise<number[]> {
  const sockets: dgram.Socket[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const socket = dgram.createSocket('udp4');
      sockets.push(socket);
      ports.push(await new Promise<number>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, address, () => resolve(socket.address().port));
      }));
    }
    return ports;
  } finally {
    for (const socket of sockets) socket.close();
  }
}

// The real FRR adapter: one zebra and one bgpd per node (per network namespace), all their state
// in one folder (config files, pid files, the zserv socket, the vty sockets, logs), nothing in
// /etc/frr or /var/run/frr; recipes in shared/notes/real-components.md §6. Daemons run as user
// frr (FRR refuses root with its vty group), so the folder is given to frr.
//
// Reload: bgpd takes a change in place through `vtysh -f FILE` (every line of the rendered file
// is a command; applying them again is harmless). That only adds, so the reload file starts by
// removing what the new file no longer names: neighbors that run but are not listed (`no
// neighbor X`, read from `show bgp neighbors json`), and the prefix lists the file defines in
// full. Sessions with kept peers stay up. The AS and router id cannot change in place: then bgpd
// is restarted. FRR's frr-reload.py (frr-pythontools) is not installed here and would read
// /etc/frr; this is the part of it pvc needs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ExecError, run } from '../../../common/exec.ts';
import { linkSocketDir, socketDirFor, unlinkSocketDir } from '../../../common/unix-socket-dir.ts';
import { FrrError, assertPeerAddress, type BgpPeer, type EvpnVni, type FrrApplyResult, type FrrConfig, type FrrDriver, type FrrOperation } from './port.ts';
import { parseAdvertisedRoutes, parseBgpSummary, parseEvpnVnis, parseNeighborAddresses, parseRunningBgp } from './parse.ts';
import { daemonAlive, stopDaemon, waitUntil, type FrrDaemon } from './processes.ts';

/** A vtysh call is a unix-socket round trip; a reload of a few hundred lines takes well under this. */
export const VTYSH_TIMEOUT_MS = 15_000;
/** From `zebra -d` to its vty answering: ~150 ms here, more on a loaded machine. */
export const FRR_START_TIMEOUT_MS = 20_000;
/** SIGTERM, then SIGKILL after this. */
export const FRR_STOP_TIMEOUT_MS = 10_000;

export interface FrrDaemonsOptions {
  /** The node's FRR folder: configs, pid files, sockets, logs. */
  stateDir: string;
  /** Start the daemons in this named network namespace; null: pvcd's own. */
  netns: string | null;
  /** Where zebra and bgpd are (Debian: /usr/lib/frr). */
  binDir?: string;
  /** The user the daemons run as (owns the state folder). */
  user?: string;
}

const DAEMONS: readonly FrrDaemon[] = ['zebra', 'bgpd'];
/** The longest socket name in the folder (zebra.vty and bgpd.vty are shorter). */
const ZSERV_SOCKET = 'zserv.api';

export class FrrDaemons implements FrrDriver {
  private readonly dir: string;
  /** The folder as socket paths name it: itself, or a short alias when it is too deep. */
  private readonly socketDir: string;
  private readonly binDir: string;
  private readonly user: string;

  constructor(private readonly options: FrrDaemonsOptions) {
    this.dir = path.resolve(options.stateDir);
    this.socketDir = socketDirFor(this.dir, ZSERV_SOCKET);
    this.binDir = options.binDir ?? '/usr/lib/frr';
    this.user = options.user ?? 'frr';
  }

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  async running(): Promise<{ zebra: boolean; bgpd: boolean }> {
    return { zebra: daemonAlive(this.dir, 'zebra'), bgpd: daemonAlive(this.dir, 'bgpd') };
  }

  async apply(config: FrrConfig): Promise<FrrApplyResult> {
    await this.prepareDir();
    const zebraChanged = writeIfChanged(this.file('zebra.conf'), config.zebra);
    const before = await this.running();
    if (!before.zebra) await this.start('zebra');
    else if (zebraChanged) await this.vtysh('apply', ['-d', 'zebra', '-f', this.file('zebra.conf')]);
    if (!before.bgpd) {
      writeFileSync(this.file('bgpd.conf'), config.bgpd);
      await this.start('bgpd');
      return 'started';
    }
    const onDisk = existsSync(this.file('bgpd.conf')) ? readFileSync(this.file('bgpd.conf'), 'utf8') : null;
    if (onDisk === config.bgpd) return before.zebra ? 'unchanged' : 'started';
    const runningBgp = parseRunningBgp(await this.vtysh('reload', ['-d', 'bgpd', '-c', 'show running-config']));
    if (runningBgp.asn !== null && (runningBgp.asn !== config.asn || runningBgp.routerId !== config.routerId)) {
      writeFileSync(this.file('bgpd.conf'), config.bgpd);
      await stopDaemon(this.dir, 'bgpd', FRR_STOP_TIMEOUT_MS);
      await this.start('bgpd');
      return 'restarted';
    }
    const runningNeighbors = parseNeighborAddresses(await this.vtysh('reload', ['-d', 'bgpd', '-c', 'show bgp neighbors json']));
    const removed = runningNeighbors.filter((n) => !config.neighbors.includes(n));
    const lines = [
      ...(removed.length > 0 && runningBgp.asn !== null ? [`router bgp ${runningBgp.asn}`, ...removed.map((n) => ` no neighbor ${n}`), 'exit'] : []),
      ...config.prefixLists.map((p) => `no ${p.family === 4 ? 'ip' : 'ipv6'} prefix-list ${p.name}`),
      config.bgpd,
    ];
    writeFileSync(this.file('bgpd.reload.conf'), `${lines.join('\n')}\n`);
    await this.vtysh('reload', ['-f', this.file('bgpd.reload.conf')], 'invalid-config');
    // Only now: after a failed reload the old file stays, so the next pass tries again.
    writeFileSync(this.file('bgpd.conf'), config.bgpd);
    return 'reloaded';
  }

  async evpnPeers(): Promise<BgpPeer[]> {
    const out = await this.vtysh('query', ['-d', 'bgpd', '-c', 'show bgp l2vpn evpn summary json']);
    return parseOrFail(() => parseBgpSummary(out));
  }

  async unicastPeers(): Promise<BgpPeer[]> {
    const out = await this.vtysh('query', ['-d', 'bgpd', '-c', 'show bgp ipv4 unicast summary json']);
    return parseOrFail(() => parseBgpSummary(out));
  }

  async advertisedRoutes(peer: string): Promise<string[]> {
    assertPeerAddress(peer);
    const out = await this.vtysh('query', ['-d', 'bgpd', '-c', `show bgp ipv4 unicast neighbors ${peer} advertised-routes json`]);
    return parseOrFail(() => parseAdvertisedRoutes(out));
  }

  async evpnVnis(): Promise<EvpnVni[]> {
    const out = await this.vtysh('query', ['-d', 'zebra', '-c', 'show evpn vni json']);
    return parseOrFail(() => parseEvpnVnis(out));
  }

  async stop(): Promise<void> {
    // bgpd first: zebra then removes the FDB entries it installed as it exits.
    for (const daemon of [...DAEMONS].reverse()) await stopDaemon(this.dir, daemon, FRR_STOP_TIMEOUT_MS);
    unlinkSocketDir(this.dir, ZSERV_SOCKET);
  }

  private async prepareDir(): Promise<void> {
    // Parents with the default mode: user frr must be able to walk down to its folder.
    mkdirSync(path.dirname(this.dir), { recursive: true });
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    await run('chown', [`${this.user}:${this.user}`, this.dir], { timeoutMs: VTYSH_TIMEOUT_MS });
    linkSocketDir(this.dir, ZSERV_SOCKET);
  }

  private async start(daemon: FrrDaemon): Promise<void> {
    const args = [
      '-d', '-P', '0',
      '-f', this.file(`${daemon}.conf`),
      '-i', this.file(`${daemon}.pid`),
      '-z', path.join(this.socketDir, ZSERV_SOCKET),
      '--vty_socket', this.socketDir,
      '--log', `file:${this.file(`${daemon}.stdlog`)}`,
    ];
    const binary = path.join(this.binDir, daemon);
    const [file, full] = this.options.netns === null ? [binary, args] : ['ip', ['netns', 'exec', this.options.netns, binary, ...args]];
    try {
      await run(file, full, { timeoutMs: FRR_START_TIMEOUT_MS });
    } catch (error) {
      throw new FrrError('start-failed', 'start', `${daemon} did not start: ${(error as Error).message}`, { cause: error });
    }
    const ready = await waitUntil(FRR_START_TIMEOUT_MS, async () => daemonAlive(this.dir, daemon) && (await this.answers(daemon)));
    if (!ready) throw new FrrError('start-failed', 'start', `${daemon} did not answer on its vty socket in ${this.dir} within ${FRR_START_TIMEOUT_MS} ms (see ${daemon}.stdlog)`);
  }

  private async answers(daemon: FrrDaemon): Promise<boolean> {
    try {
      await this.vtysh('query', ['-d', daemon, '-c', 'show version']);
      return true;
    } catch {
      return false;
    }
  }

  private async vtysh(operation: FrrOperation, args: string[], failKind: 'failed' | 'invalid-config' = 'failed'): Promise<string> {
    try {
      return (await run('vtysh', ['--vty_socket', this.socketDir, ...args], { timeoutMs: VTYSH_TIMEOUT_MS })).stdout;
    } catch (error) {
      if (!(error instanceof ExecError)) throw error;
      if (error.timedOut) throw new FrrError('timeout', operation, `vtysh did not answer in ${VTYSH_TIMEOUT_MS} ms`, { cause: error });
      const text = `${error.stderr}`.trim();
      if (text.includes('failed to connect')) throw new FrrError('not-running', operation, `no frr daemon answers in ${this.dir}`, { cause: error });
      throw new FrrError(failKind, operation, text || error.message, { cause: error });
    }
  }
}

function writeIfChanged(file: string, text: string): boolean {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return false;
  writeFileSync(file, text);
  return true;
}

function parseOrFail<T>(parser: () => T): T {
  try {
    return parser();
  } catch (error) {
    throw new FrrError('failed', 'query', (error as Error).message, { cause: error });
  }
}

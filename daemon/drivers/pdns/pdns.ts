// The real DNS adapter: pdns_server in the foreground (in the node's network namespace when one
// is configured), its files under <stateDir>/pdns/, its zones managed through the HTTP API.
// The default backend is gsqlite3; its database is created from the packaged schema once and
// kept, so a restart serves the last records at once while the first pass brings them up to date.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../../../common/exec.ts';
import { linkSocketDir, unlinkSocketDir } from '../../../common/unix-socket-dir.ts';
import { isRunning, startService, stopService, waitUntilReady } from '../service-process.ts';
import { FetchTransport, NetnsCurlTransport, type HttpTransport } from './http.ts';
import { createZoneBody, parseZone, parseZoneList, patchZoneBody } from './parse.ts';
import { DnsError, type DnsDriver, type RecordSet, type Zone } from './port.ts';
import { renderPdnsConfig, type PdnsBackend } from './render.ts';

/** Debian's pdns-backend-sqlite3 ships the schema here (4.7 has no command that creates a database). */
export const PDNS_SQLITE_SCHEMA = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';
/** PowerDNS answers DNS and its API 63-191 ms after launch here; a busy machine gets this long. */
export const PDNS_START_TIMEOUT_MS = 10_000;
/** SIGKILL at once: on SIGTERM pdns takes 1-2 s, more than a primary may spend stepping down, and its database is transactional. */
export const PDNS_KILL_WAIT_MS = 1_000;
export const PDNS_API_TIMEOUT_MS = 3_000;
/** What pdns 4.7 logs once its API port listens. */
const PDNS_API_LISTENING_LOG = '[webserver] Listening for HTTP requests';
const PDNS_LOG_FALLBACK_MS = 2_000;
const SQLITE_TIMEOUT_MS = 10_000;
/** pdns binds its control socket in socket-dir under this name. */
const CONTROL_SOCKET = 'pdns.controlsocket';
const API_ROOT = '/api/v1/servers/localhost';

export interface PdnsDriverOptions {
  stateDir: string;
  netns: string | null;
  binary?: string;
  dnsAddresses: readonly string[];
  dnsPort: number;
  apiAddress: string;
  apiPort: number;
  /** null: a fresh random key at every start (only pvcd needs it). */
  apiKey: string | null;
  /** null: gsqlite3 with a database under the state folder. */
  backend: PdnsBackend | null;
  apiTimeoutMs?: number;
}

export class PdnsDriver implements DnsDriver {
  private pid: number | null = null;
  private transport: HttpTransport | null = null;
  private closed = true;
  private readonly dir: string;

  constructor(private readonly options: PdnsDriverOptions) {
    this.dir = path.join(options.stateDir, 'pdns');
  }

  open(): void {
    this.closed = false;
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    await this.stopServer();
    unlinkSocketDir(this.dir, CONTROL_SOCKET);
  }

  async ensureRunning(): Promise<'started' | 'running'> {
    if (this.pid !== null && isRunning(this.pid)) return 'running';
    if (this.closed) throw new DnsError('closed', 'refused to start: this node is not serving as primary');
    await this.stopServer();
    const backend = await this.prepareFiles();
    const apiKey = this.options.apiKey ?? randomBytes(24).toString('hex');
    const configText = renderPdnsConfig({ ...this.options, backend, apiKey, socketDir: linkSocketDir(this.dir, CONTROL_SOCKET) });
    writeFileSync(path.join(this.dir, 'pdns.conf'), configText, { mode: 0o600 });
    const baseUrl = `http://${this.options.apiAddress.includes(':') ? `[${this.options.apiAddress}]` : this.options.apiAddress}:${this.options.apiPort}`;
    const transport = this.options.netns === null ? new FetchTransport(baseUrl, apiKey) : new NetnsCurlTransport(this.options.netns, baseUrl, apiKey, path.join(this.dir, 'api-key.header'));
    if (this.closed) throw new DnsError('closed', 'refused to start: this node is not serving as primary');
    const logFile = path.join(this.dir, 'pdns.log');
    const logOffset = sizeOf(logFile);
    const launchedAt = performance.now();
    // No await between the fence check and recording the PID: closeAll() sees the process.
    const pid = startService({ file: this.options.binary ?? 'pdns_server', args: [`--config-dir=${this.dir}`], netns: this.options.netns, env: {}, logFile });
    this.pid = pid;
    this.transport = transport;
    // Ask the API only once pdns says it listens (each question may be a process, in a namespace),
    // or, should its log not say so, every poll after a while.
    const mayAsk = () => logSince(logFile, logOffset).includes(PDNS_API_LISTENING_LOG) || performance.now() - launchedAt > PDNS_LOG_FALLBACK_MS;
    const ready = await waitUntilReady(pid, async () => mayAsk() && (await this.answers(transport)), PDNS_START_TIMEOUT_MS);
    if (ready) return 'started';
    const running = isRunning(pid);
    await this.stopServer();
    if (this.closed) throw new DnsError('closed', 'stopped while starting: this node is no longer serving as primary');
    throw new DnsError(running ? 'timeout' : 'failed', running ? `pdns_server did not answer within ${PDNS_START_TIMEOUT_MS} ms` : `pdns_server exited at start: ${lastLines(logFile)}`);
  }

  async listZones(): Promise<Zone[]> {
    const reply = await this.call('GET', `${API_ROOT}/zones`, null);
    const zones = parseOrFail(() => parseZoneList(expectStatus(reply, [200], 'list zones')), 'zone list');
    return Promise.all(
      zones.map(async (z) => {
        const one = await this.call('GET', `${API_ROOT}/zones/${encodeURIComponent(z.id)}`, null);
        return parseOrFail(() => parseZone(expectStatus(one, [200], `read zone ${z.name}`)), `zone ${z.name}`);
      }),
    );
  }

  async createZone(zone: Zone): Promise<void> {
    expectStatus(await this.call('POST', `${API_ROOT}/zones`, createZoneBody(zone)), [201], `create zone ${zone.name}`);
  }

  async patchZone(name: string, replace: readonly RecordSet[], remove: ReadonlyArray<{ name: string; type: string }>): Promise<void> {
    expectStatus(await this.call('PATCH', `${API_ROOT}/zones/${encodeURIComponent(name)}`, patchZoneBody(replace, remove)), [204], `change zone ${name}`);
  }

  async deleteZone(name: string): Promise<void> {
    // 404: already gone, which is what was asked.
    expectStatus(await this.call('DELETE', `${API_ROOT}/zones/${encodeURIComponent(name)}`, null), [204, 404], `delete zone ${name}`);
  }

  private async call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', urlPath: string, body: string | null) {
    const transport = this.transport;
    if (transport === null || this.pid === null) throw new DnsError('api', `${method} ${urlPath}: pdns_server is not running`);
    return transport.request(method, urlPath, body, this.options.apiTimeoutMs ?? PDNS_API_TIMEOUT_MS);
  }

  private async answers(transport: HttpTransport): Promise<boolean> {
    try {
      return (await transport.request('GET', API_ROOT, null, 1_000)).status === 200;
    } catch {
      return false;
    }
  }

  private async stopServer(): Promise<void> {
    if (this.pid !== null) {
      const gone = await stopService(this.pid, 0, PDNS_KILL_WAIT_MS);
      if (!gone) throw new DnsError('timeout', `pdns_server (pid ${this.pid}) did not exit after SIGKILL`);
    }
    this.pid = null;
    this.transport = null;
  }

  /** The state folder, and for the default backend its database (created from the schema once). */
  private async prepareFiles(): Promise<PdnsBackend> {
    mkdirSync(this.dir, { recursive: true });
    if (this.options.backend !== null) return this.options.backend;
    const database = path.join(this.dir, 'pdns.sqlite3');
    if (!existsSync(database)) {
      const tmp = `${database}.new`;
      rmSync(tmp, { force: true });
      await run('sqlite3', [tmp, `.read ${PDNS_SQLITE_SCHEMA}`], { timeoutMs: SQLITE_TIMEOUT_MS });
      renameSync(tmp, database);
    }
    return { launch: 'gsqlite3', settings: { 'gsqlite3-database': database } };
  }
}

function expectStatus(reply: { status: number; body: string }, ok: readonly number[], what: string): string {
  if (ok.includes(reply.status)) return reply.body;
  throw new DnsError('api', `${what}: http ${reply.status}: ${reply.body.trim().slice(0, 300)}`);
}

function parseOrFail<T>(parse: () => T, what: string): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof DnsError) throw error;
    throw new DnsError('api', `${what}: ${(error as Error).message}`, { cause: error });
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** What was appended to the file after `offset`. */
function logSince(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

function lastLines(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' / ') || '(no output)';
  } catch {
    return '(no output)';
  }
}

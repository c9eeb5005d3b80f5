// The simulated hypervisor seen from a pvcd process: every call goes over HTTP to one shared
// sim world (test/helpers/sim-world-server.ts), so that several pvcd processes see one world in
// which a domain runs on exactly one node. Errors come back as HypervisorErrors of the same kind.
import http from 'node:http';
import { HypervisorError, type CompletedJob, type DomainInfo, type DomainRef, type DomainStats, type DomainStatus, type DomainSummary, type DumpXmlOptions, type CephSecret, type HostInfo, type HypervisorDriver, type HypervisorErrorKind, type HypervisorOperation, type MigrateOptions, type MigrationTarget } from './port.ts';

/** Above the sim's own longest call (a hung call fails at its own timeout first). */
const SIM_CALL_TIMEOUT_MS = 30_000;
const UNIX_PREFIX = 'unix:';

export interface SimCall {
  node: string;
  method: keyof HypervisorDriver;
  args: unknown[];
}

export type SimReply = { ok: true; value: unknown } | { ok: false; kind: HypervisorErrorKind; operation: HypervisorOperation; domain: string | null; detail: string };

export class RemoteSimHypervisor implements HypervisorDriver {
  constructor(
    /** http://127.0.0.1:PORT of the sim world server, or unix:/PATH of its socket (which a pvcd
     *  in a network namespace reaches as a local hypervisor socket, like libvirtd's). */
    private readonly url: string,
    private readonly node: string,
  ) {}

  listDomains(): Promise<DomainSummary[]> { return this.call('listDomains', []); }
  domainState(name: string): Promise<DomainStatus> { return this.call('domainState', [name]); }
  domainInfo(name: string): Promise<DomainInfo> { return this.call('domainInfo', [name]); }
  define(xml: string): Promise<DomainRef> { return this.call('define', [xml]); }
  undefine(name: string): Promise<void> { return this.call('undefine', [name]); }
  start(name: string): Promise<void> { return this.call('start', [name]); }
  shutdown(name: string): Promise<void> { return this.call('shutdown', [name]); }
  destroy(name: string): Promise<void> { return this.call('destroy', [name]); }
  dumpXml(name: string, options?: DumpXmlOptions): Promise<string> { return this.call('dumpXml', [name, options]); }
  migrateLive(name: string, target: MigrationTarget, options: MigrateOptions): Promise<void> { return this.call('migrateLive', [name, target, options]); }
  lastJobInfo(name: string): Promise<CompletedJob | null> { return this.call('lastJobInfo', [name]); }
  domainStats(name: string): Promise<DomainStats> { return this.call('domainStats', [name]); }
  hostInfo(): Promise<HostInfo> { return this.call('hostInfo', []); }
  setCephSecret(secret: CephSecret): Promise<void> { return this.call('setCephSecret', [secret]); }

  private call<T>(method: keyof HypervisorDriver, args: unknown[]): Promise<T> {
    const body = JSON.stringify({ node: this.node, method, args } satisfies SimCall);
    const domain = typeof args[0] === 'string' && method !== 'define' ? args[0] : null;
    return new Promise<T>((resolve, reject) => {
      const options = { method: 'POST', headers: { 'content-type': 'application/json' }, timeout: SIM_CALL_TIMEOUT_MS };
      const onResponse = (response: http.IncomingMessage): void => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          try {
            const reply = JSON.parse(text) as SimReply;
            if (reply.ok) resolve(reply.value as T);
            else reject(new HypervisorError(reply.kind, reply.operation, reply.domain, reply.detail));
          } catch (error) {
            reject(new HypervisorError('failed', 'list', domain, `bad reply from the sim world at ${this.url}: ${String(error)}`));
          }
        });
      };
      const request = this.url.startsWith(UNIX_PREFIX)
        ? http.request({ ...options, socketPath: this.url.slice(UNIX_PREFIX.length), path: '/call' }, onResponse)
        : http.request(`${this.url}/call`, options, onResponse);
      request.on('timeout', () => request.destroy(new Error(`no answer within ${SIM_CALL_TIMEOUT_MS} ms`)));
      request.on('error', (error) => reject(new HypervisorError('unreachable', 'list', domain, `sim world at ${this.url}: ${error.message}`)));
      request.end(body);
    });
  }
}

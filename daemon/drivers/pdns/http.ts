// How pvcd reaches PowerDNS's HTTP API. Normally with node's fetch (every call bounded by an
// AbortSignal timeout). When the primary services run in another network namespace (the tests,
// the local cluster), 127.0.0.1 of that namespace is out of pvcd's reach, so the request is made
// by curl inside it (`ip netns exec NS curl`, through common/exec.ts, with the same bound). The
// API key goes to curl in a header file, never on its command line.
import { writeFileSync } from 'node:fs';
import { ExecError, run } from '../../../common/exec.ts';
import { DnsError } from './port.ts';

export interface HttpReply {
  status: number;
  body: string;
}

export interface HttpTransport {
  request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body: string | null, timeoutMs: number): Promise<HttpReply>;
}

export class FetchTransport implements HttpTransport {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  async request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body: string | null, timeoutMs: number): Promise<HttpReply> {
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { 'X-API-Key': this.apiKey, ...(body === null ? {} : { 'Content-Type': 'application/json' }) },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new DnsError(timedOut ? 'timeout' : 'api', `${method} ${path}: ${timedOut ? `no answer in ${timeoutMs} ms` : (error as Error).message}`, { cause: error });
    }
  }
}

/** The status code curl appends after the body (`-w`), on a line of its own. */
const STATUS_MARK = '\n@@pvc-http-status@@';

export class NetnsCurlTransport implements HttpTransport {
  /** `headerFile` receives the API key header (mode 0600); it lives next to pdns.conf. */
  constructor(
    private readonly netns: string,
    private readonly baseUrl: string,
    apiKey: string,
    private readonly headerFile: string,
  ) {
    writeFileSync(headerFile, `X-API-Key: ${apiKey}\n`, { mode: 0o600 });
  }

  async request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body: string | null, timeoutMs: number): Promise<HttpReply> {
    const args = ['netns', 'exec', this.netns, 'curl', '-sS', '--max-time', (timeoutMs / 1000).toFixed(3), '-X', method, '-H', `@${this.headerFile}`];
    if (body !== null) args.push('-H', 'Content-Type: application/json', '--data-binary', '@-');
    args.push('-w', `${STATUS_MARK}%{http_code}`, `${this.baseUrl}${path}`);
    try {
      const { stdout } = await run('ip', args, { timeoutMs: timeoutMs + 1_000, ...(body === null ? {} : { input: body }) });
      const at = stdout.lastIndexOf(STATUS_MARK);
      const status = Number(stdout.slice(at + STATUS_MARK.length).trim());
      if (at < 0 || !Number.isInteger(status)) throw new DnsError('api', `${method} ${path}: curl gave no status code`);
      return { status, body: stdout.slice(0, at) };
    } catch (error) {
      if (error instanceof DnsError) throw error;
      const timedOut = error instanceof ExecError && (error.timedOut || error.exitCode === 28);
      const detail = error instanceof ExecError ? error.stderr.trim() || error.message : (error as Error).message;
      throw new DnsError(timedOut ? 'timeout' : 'api', `${method} ${path}: ${timedOut ? `no answer in ${timeoutMs} ms` : detail}`, { cause: error });
    }
  }
}

// The real hypervisor adapter: libvirt through the virsh client, one process per call, through
// common/exec.ts (argument arrays, a timeout on every call). virsh rather than a libvirt binding:
// no native module to build, and every call is the command an operator would type to check.
//
// Output is read in virsh's machine-readable forms where it has them (domstats key=value,
// domjobinfo --rawstats, list --uuid --name); parsers live in parse.ts. XML reaches virsh as a
// private temporary file (virsh reads it and sends the text), never through a shell.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExecError, run } from '../../../common/exec.ts';
import {
  classifyVirshError,
  parseDefinedName,
  parseDomjobinfoRaw,
  parseDominfo,
  parseDomstateReason,
  parseDomstatsState,
  parseDomstatsStats,
  parseListUuidName,
  parseNodeinfo,
  virshErrorDetail,
  xmlDomainName,
} from './parse.ts';
import {
  HypervisorError,
  assertCephSecret,
  type CompletedJob,
  type DomainInfo,
  type DomainRef,
  type DomainStats,
  type DomainStatus,
  type DomainSummary,
  type DumpXmlOptions,
  type CephSecret,
  type HostInfo,
  type HypervisorDriver,
  type HypervisorOperation,
  type MigrateOptions,
  type MigrationTarget,
} from './port.ts';
import { DEFAULT_HYPERVISOR_TIMEOUTS, type HypervisorTimeouts } from './timeouts.ts';

export interface VirshHypervisorOptions {
  timeouts?: Partial<HypervisorTimeouts>;
}

export class VirshHypervisor implements HypervisorDriver {
  private readonly timeouts: HypervisorTimeouts;

  constructor(
    /** e.g. qemu:///system, or qemu+unix:///system?socket=/path/libvirt-sock for a test node. */
    readonly uri: string,
    options: VirshHypervisorOptions = {},
  ) {
    this.timeouts = { ...DEFAULT_HYPERVISOR_TIMEOUTS, ...options.timeouts };
  }

  async listDomains(): Promise<DomainSummary[]> {
    const refs = parseListUuidName(await this.virsh('list', null, ['list', '--all', '--uuid', '--name'], this.timeouts.queryMs));
    if (refs.length === 0) return [];
    const states = parseDomstatsState(await this.virsh('list', null, ['domstats', '--state'], this.timeouts.queryMs));
    // A domain undefined between the two calls has no state: it is gone, so it is left out.
    return refs.flatMap((ref) => {
      const state = states.get(ref.name);
      return state === undefined ? [] : [{ ...ref, state }];
    });
  }

  async domainState(name: string): Promise<DomainStatus> {
    return parseDomstateReason(await this.virsh('state', name, ['domstate', '--reason', name], this.timeouts.queryMs));
  }

  async domainInfo(name: string): Promise<DomainInfo> {
    return parseDominfo(await this.virsh('info', name, ['dominfo', name], this.timeouts.queryMs));
  }

  async define(xml: string): Promise<DomainRef> {
    const stdout = await withXmlFile(xml, (file) => this.virsh('define', xmlDomainName(xml), ['define', file], this.timeouts.defineMs));
    const name = parseDefinedName(stdout);
    const uuid = (await this.virsh('define', name, ['domuuid', name], this.timeouts.queryMs)).trim();
    return { name, uuid };
  }

  async undefine(name: string): Promise<void> {
    await this.virsh('undefine', name, ['undefine', name], this.timeouts.defineMs);
  }

  async start(name: string): Promise<void> {
    await this.virsh('start', name, ['start', name], this.timeouts.startMs);
  }

  async shutdown(name: string): Promise<void> {
    await this.virsh('shutdown', name, ['shutdown', '--mode', 'acpi', name], this.timeouts.shutdownMs);
  }

  async destroy(name: string): Promise<void> {
    await this.virsh('destroy', name, ['destroy', name], this.timeouts.destroyMs);
  }

  async dumpXml(name: string, options: DumpXmlOptions = {}): Promise<string> {
    return this.virsh('dump-xml', name, ['dumpxml', ...(options.migratable ? ['--migratable'] : []), name], this.timeouts.queryMs);
  }

  async migrateLive(name: string, target: MigrationTarget, options: MigrateOptions): Promise<void> {
    if (options.maxDowntimeMs !== undefined) {
      // Set before the job starts (libvirt keeps it as the next migration's parameter).
      await this.virsh('migrate', name, ['migrate-setmaxdowntime', name, String(options.maxDowntimeMs)], this.timeouts.queryMs);
    }
    // Peer to peer: the source libvirtd connects to the target itself, so one call does it all.
    const args = ['migrate', '--live', '--p2p', '--persistent', '--undefinesource', name, target.uri];
    if (target.migrateUri !== null) args.push('--migrateuri', target.migrateUri);
    try {
      if (options.destinationXml === undefined) await this.virsh('migrate', name, args, options.timeoutMs);
      else await withXmlFile(options.destinationXml, (file) => this.virsh('migrate', name, [...args, '--xml', file, '--persistent-xml', file], options.timeoutMs));
    } catch (error) {
      if (error instanceof HypervisorError && error.kind === 'timeout') {
        // Killing virsh need not end the job in libvirtd: abort it so the domain stays on the source.
        await this.virsh('migrate', name, ['domjobabort', name], this.timeouts.abortMs).catch(() => undefined);
      }
      throw error;
    }
  }

  async lastJobInfo(name: string): Promise<CompletedJob | null> {
    // --keep-completed: reading must not discard the statistics (a second read sees them too).
    const stdout = await this.virsh('job-info', name, ['domjobinfo', name, '--completed', '--keep-completed', '--rawstats'], this.timeouts.queryMs);
    return parseDomjobinfoRaw(stdout);
  }

  async domainStats(name: string): Promise<DomainStats> {
    // --state: libvirt's cpu.time of a shut-off domain is not the domain's (see parseDomstatsStats).
    const args = ['domstats', '--raw', '--state', '--cpu-total', '--balloon', '--block', '--interface', name];
    return parseDomstatsStats(await this.virsh('stats', name, args, this.timeouts.queryMs));
  }

  async hostInfo(): Promise<HostInfo> {
    return parseNodeinfo(await this.virsh('host-info', null, ['nodeinfo'], this.timeouts.queryMs));
  }

  async setCephSecret(secret: CephSecret): Promise<void> {
    await withXmlFile(renderSecretXml(secret), (file) => this.virsh('secret', null, ['secret-define', file], this.timeouts.defineMs));
    // --file: the file holds the base64 text as ceph prints it; --plain would encode it again.
    await withXmlFile(secret.keyBase64, (file) => this.virsh('secret', null, ['secret-set-value', secret.uuid, '--file', file], this.timeouts.defineMs));
  }

  /** Runs one virsh command; its failures become HypervisorErrors naming the operation and domain. */
  private async virsh(operation: HypervisorOperation, domain: string | null, args: string[], timeoutMs: number): Promise<string> {
    try {
      const result = await run('virsh', ['-c', this.uri, ...args], { timeoutMs });
      return result.stdout;
    } catch (error) {
      if (!(error instanceof ExecError)) throw error;
      if (error.timedOut) throw new HypervisorError('timeout', operation, domain, `virsh ${args[0]} did not finish within ${timeoutMs} ms`, { cause: error });
      throw new HypervisorError(classifyVirshError(error.stderr), operation, domain, virshErrorDetail(error.stderr), { cause: error });
    }
  }
}

/**
 * Hands XML to virsh as a file in a private temporary folder, removed afterwards. virsh reads XML
 * only from a file argument, and /dev/stdin fails when stdin is a socket (as execa's is).
 */
function renderSecretXml(secret: CephSecret): string {
  assertCephSecret(secret);
  return `<secret ephemeral='no' private='yes'><uuid>${secret.uuid}</uuid><usage type='ceph'><name>${escapeXmlText(secret.usageName)}</name></usage></secret>\n`;
}

function escapeXmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

async function withXmlFile<T>(xml: string, use: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pvc-virsh-'));
  try {
    const file = path.join(dir, 'domain.xml');
    writeFileSync(file, xml, { mode: 0o600 });
    return await use(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Domain XML for the diskless test guest (scripts/lib/test-guest.ts) and reading its serial
// console log. TCG (<domain type='qemu'>): this machine's /dev/kvm cannot run normal guests.
// The console is a pty whose log file virtlogd writes; each node gets its own log path, since a
// migration's destination would otherwise write into the source's file (notes §12, blocker 5).
import { existsSync, readFileSync } from 'node:fs';
import { GUEST_BASE_CMDLINE, GUEST_MEMORY_MIB, type TestGuest } from '../../scripts/lib/test-guest.ts';
import { waitFor } from './wait.ts';

export interface GuestDomainSpec {
  name: string;
  uuid: string;
  guest: Pick<TestGuest, 'kernelPath' | 'initrdPath'>;
  consoleLog: string;
  /** stay=1: keep running and print GUEST-TICK up=N every 2 s (default true). */
  stay?: boolean;
  /** Without <acpi/> the guest ignores `virsh shutdown` (default true). */
  acpi?: boolean;
}

export function guestDomainXml(spec: GuestDomainSpec): string {
  const x = escapeXml;
  const cmdline = `${GUEST_BASE_CMDLINE}${spec.stay === false ? '' : ' stay=1'}`;
  // No on_poweroff: libvirt's default (destroy) ends the domain when the guest powers off.
  // A fixed CPU model keeps the guest migratable between nodes whatever QEMU picks by default.
  return `<domain type='qemu'>
  <name>${x(spec.name)}</name>
  <uuid>${x(spec.uuid)}</uuid>
  <memory unit='MiB'>${GUEST_MEMORY_MIB}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${x(spec.guest.kernelPath)}</kernel>
    <initrd>${x(spec.guest.initrdPath)}</initrd>
    <cmdline>${x(cmdline)}</cmdline>
  </os>
  <features>${spec.acpi === false ? '' : '<acpi/>'}<apic/></features>
  <cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model></cpu>
  <devices>
    <serial type='pty'><log file='${x(spec.consoleLog)}' append='on'/><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

/** The same domain XML with another console log path (the migration destination's). */
export function withConsoleLog(xml: string, consoleLog: string): string {
  return xml.replace(/(<log file=')[^']*(')/, `$1${escapeXml(consoleLog)}$2`);
}

export function readConsole(logPath: string): string {
  return existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
}

/** Waits until a console line matches; returns that line. */
export async function waitForConsoleLine(logPath: string, pattern: RegExp, timeoutMs: number): Promise<string> {
  return waitFor(
    `${pattern} in ${logPath}`,
    () => readConsole(logPath).split('\n').find((line) => pattern.test(line)) ?? null,
    timeoutMs,
  );
}

/** The guest's uptimes from its GUEST-TICK lines, in order. */
export function tickUptimes(console: string): number[] {
  return [...console.matchAll(/GUEST-TICK up=([\d.]+)/g)].map((m) => Number(m[1]));
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll("'", '&apos;').replaceAll('"', '&quot;');
}

// Builds the diskless test guest: Debian's kernel (vmlinuz) plus a busybox initrd whose init
// prints markers on the serial console (docs: /work/shared/notes §9). The guest needs no disk,
// no network and no image download beyond two Debian packages, and boots under TCG in ~7 s.
//
// Console protocol of the init script (tests read the serial log for these lines):
//   GUEST-MARKER: booted kernel <version> uptime=<s>s     once, when init runs
//   GUEST-STAYING, then GUEST-TICK up=<s> every 2 s        with `stay=1` on the cmdline
//   GUEST-ACPI-POWER-BUTTON: powering off                  when the ACPI power button is pressed
//   GUEST-POWEROFF                                         without stay=1, right after boot
//   GUEST-WRITER boot=<id>, then GUEST-WRITE-ERROR n=<n>   with `diskwrite=1`: a record
//       "W <boot id> <n>" is written and flushed to vda every 200 ms (sectors 8-71, in turn);
//       the error line shows when a write fails (e.g. after Ceph blocklisted this QEMU)
//
// The result is cached in a folder (.state/guest-<hash of the init files> by default, so a change
// to the init script builds a new guest) and reused when present. Builds run
// in a private temporary folder and are renamed into place at the end, so two test files that
// build at once never see a half-written guest.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { run } from '../../common/exec.ts';
import { REPO_ROOT } from '../../common/templates.ts';


/** Kernel command line for every test guest; `panic=-1` turns a guest panic into a quick exit. */
export const GUEST_BASE_CMDLINE = 'console=ttyS0 quiet panic=-1';
/** The Debian kernel's decompressor fails silently below 96 MiB (notes §11). */
export const GUEST_MEMORY_MIB = 128;

export const GUEST_MARKER = 'GUEST-MARKER';
export const GUEST_TICK = 'GUEST-TICK';
export const GUEST_ACPI_MARKER = 'GUEST-ACPI-POWER-BUTTON';

export interface TestGuest {
  dir: string;
  kernelPath: string;
  initrdPath: string;
  kernelVersion: string;
}

/** apt-cache answers from local lists in well under a second. */
const APT_CACHE_TIMEOUT_MS = 30_000;
/** ~71 MB from a Debian mirror: seconds here, minutes on a slow link. */
const APT_DOWNLOAD_TIMEOUT_MS = 600_000;
/** Unpacking the kernel package (~400 MB of modules) takes a few seconds. */
const DPKG_EXTRACT_TIMEOUT_MS = 180_000;
const CPIO_TIMEOUT_MS = 60_000;
const MANIFEST = 'guest.json';

/** Modules the init script loads, in dependency order (paths under the kernel's drivers/ or net/). */
const MODULES: readonly { file: string; name: string }[] = [
  { file: 'drivers/input/evdev.ko', name: 'evdev' },
  { file: 'drivers/acpi/button.ko', name: 'button' },
  { file: 'drivers/virtio/virtio_ring.ko', name: 'virtio_ring' },
  { file: 'drivers/virtio/virtio.ko', name: 'virtio' },
  { file: 'drivers/virtio/virtio_pci_legacy_dev.ko', name: 'virtio_pci_legacy_dev' },
  { file: 'drivers/virtio/virtio_pci_modern_dev.ko', name: 'virtio_pci_modern_dev' },
  { file: 'drivers/virtio/virtio_pci.ko', name: 'virtio_pci' },
  { file: 'net/core/failover.ko', name: 'failover' },
  { file: 'drivers/net/net_failover.ko', name: 'net_failover' },
  { file: 'drivers/net/virtio_net.ko', name: 'virtio_net' },
  { file: 'drivers/block/virtio_blk.ko', name: 'virtio_blk' },
];

const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev 2>/dev/null
for m in ${MODULES.map((m) => m.name).join(' ')}; do insmod /mods/$m.ko 2>/dev/null; done
echo "GUEST-MARKER: booted kernel $(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)s"
CMD=$(cat /proc/cmdline); acpid -c /etc/acpi -l /dev/console
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.2; done
echo "GUEST-NICS: $(ls /sys/class/net | tr "\\n" " ")"; [ -b /dev/vda ] && echo "GUEST-DISK: vda first line: $(head -n1 /dev/vda | head -c 64)"
case "$CMD" in *net=dhcp*) ip link set eth0 up; udhcpc -i eth0 -n -q -t 5 -s /bin/udhcpc.sh 2>&1 | tail -3;; esac
case "$CMD" in *marker_url=*) U=\${CMD##*marker_url=}; U=\${U%% *}; echo "GUEST-HTTP: $(wget -q -O - $U)";; esac
case "$CMD" in *diskwrite=1*) B=$(cut -c1-8 /proc/sys/kernel/random/boot_id); echo "GUEST-WRITER boot=$B"; (n=0; while true; do n=$((n+1)); printf "W %s %08d\\n" $B $n | dd of=/dev/vda bs=512 seek=$((8 + n % 64)) conv=notrunc,fsync 2>/dev/null || echo "GUEST-WRITE-ERROR n=$n"; sleep 0.2; done) & ;; esac
case "$CMD" in *stay=1*) echo GUEST-STAYING; while true; do echo "GUEST-TICK up=$(cut -d" " -f1 /proc/uptime)"; sleep 2; done;; esac
echo GUEST-POWEROFF; poweroff -f
`;

/** busybox acpid runs /etc/acpi/PWRF/00000080 when the power button is pressed. */
const POWER_BUTTON_SCRIPT = `#!/bin/sh
echo GUEST-ACPI-POWER-BUTTON: powering off
poweroff -f
`;

const UDHCPC_SCRIPT = `#!/bin/sh
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
ifconfig $interface $ip netmask \${subnet:-255.255.255.0} up
[ -n "$router" ] && route add default gw \${router%% *}
echo "udhcpc: bound $ip"
`;

/** Changes with the init files, so that a guest built from older ones is never reused. */
const GUEST_BUILD_ID = createHash('sha256').update(INIT_SCRIPT).update(POWER_BUTTON_SCRIPT).update(UDHCPC_SCRIPT).update(JSON.stringify(MODULES)).digest('hex').slice(0, 8);
export const DEFAULT_GUEST_DIR = path.join(REPO_ROOT, '.state', `guest-${GUEST_BUILD_ID}`);

/** The guest in `dir`, built first when it is missing. Idempotent; safe to call from parallel test files. */
export async function ensureTestGuest(dir: string = DEFAULT_GUEST_DIR): Promise<TestGuest> {
  const existing = readGuest(dir);
  if (existing) return existing;
  mkdirSync(path.dirname(dir), { recursive: true });
  const work = mkdtempSync(`${dir}.build-`);
  try {
    const out = path.join(work, 'out');
    mkdirSync(out);
    await buildInto(work, out);
    try {
      renameSync(out, dir);
    } catch (error) {
      // Another builder finished first: its guest is as good as ours.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const built = readGuest(dir);
  if (!built) throw new Error(`test guest: ${dir} is incomplete after the build`);
  return built;
}

function readGuest(dir: string): TestGuest | null {
  try {
    const manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as { kernelVersion?: unknown };
    const guest = { dir, kernelPath: path.join(dir, 'vmlinuz'), initrdPath: path.join(dir, 'initrd.gz'), kernelVersion: String(manifest.kernelVersion) };
    return existsSync(guest.kernelPath) && existsSync(guest.initrdPath) ? guest : null;
  } catch {
    return null;
  }
}

async function buildInto(work: string, out: string): Promise<void> {
  const kernelPackage = await currentKernelPackage();
  const debs = path.join(work, 'debs');
  mkdirSync(debs);
  // Never `apt-get install busybox-static`: it would remove the host's busybox (notes §0).
  await run('apt-get', ['download', '-q', kernelPackage, 'busybox-static'], { cwd: debs, timeoutMs: APT_DOWNLOAD_TIMEOUT_MS });
  const kernelDeb = path.join(debs, findOne(debs, (f) => f.startsWith(`${kernelPackage}_`) && f.endsWith('.deb')));
  const busyboxDeb = path.join(debs, findOne(debs, (f) => f.startsWith('busybox-static_') && f.endsWith('.deb')));
  const kernelRoot = path.join(work, 'k');
  const busyboxRoot = path.join(work, 'bb');
  await run('dpkg', ['-x', kernelDeb, kernelRoot], { timeoutMs: DPKG_EXTRACT_TIMEOUT_MS });
  await run('dpkg', ['-x', busyboxDeb, busyboxRoot], { timeoutMs: DPKG_EXTRACT_TIMEOUT_MS });

  const kernelVersion = findOne(path.join(kernelRoot, 'lib/modules'), () => true);
  const moduleRoot = path.join(kernelRoot, 'lib/modules', kernelVersion, 'kernel');
  copyFileSync(path.join(kernelRoot, 'boot', `vmlinuz-${kernelVersion}`), path.join(out, 'vmlinuz'));

  const root = path.join(work, 'r');
  for (const sub of ['bin', 'proc', 'sys', 'dev', 'mods', 'etc/acpi/PWRF', 'tmp']) mkdirSync(path.join(root, sub), { recursive: true });
  copyFileSync(path.join(busyboxRoot, 'bin/busybox'), path.join(root, 'bin/busybox'));
  chmodSync(path.join(root, 'bin/busybox'), 0o755);
  for (const module of MODULES) copyFileSync(path.join(moduleRoot, module.file), path.join(root, 'mods', `${module.name}.ko`));
  writeExecutable(path.join(root, 'init'), INIT_SCRIPT);
  writeExecutable(path.join(root, 'etc/acpi/PWRF/00000080'), POWER_BUTTON_SCRIPT);
  writeExecutable(path.join(root, 'bin/udhcpc.sh'), UDHCPC_SCRIPT);

  // cpio reads the file list on stdin and writes the archive to a file (-O): binary output never
  // passes through a string. The kernel wants the newc format; gzip happens here in-process.
  const archive = path.join(work, 'initrd.cpio');
  await run('cpio', ['-o', '-H', 'newc', '--quiet', '-O', archive], { cwd: root, input: `${listTree(root).join('\n')}\n`, timeoutMs: CPIO_TIMEOUT_MS });
  writeFileSync(path.join(out, 'initrd.gz'), gzipSync(readFileSync(archive), { level: 9 }));
  writeFileSync(path.join(out, MANIFEST), `${JSON.stringify({ kernelPackage, kernelVersion, builtAt: new Date().toISOString() }, null, 2)}\n`);
}

/** The versioned package linux-image-amd64 points to now (e.g. linux-image-6.1.0-56-amd64). */
async function currentKernelPackage(): Promise<string> {
  const { stdout } = await run('apt-cache', ['depends', 'linux-image-amd64'], { timeoutMs: APT_CACHE_TIMEOUT_MS });
  const match = /Depends:\s*(linux-image-\S+)/.exec(stdout);
  if (!match?.[1]) throw new Error(`test guest: no linux-image dependency in apt-cache depends linux-image-amd64: ${stdout.slice(0, 300)}`);
  return match[1];
}

/** The name of the one entry of dir that `accept` takes. */
function findOne(dir: string, accept: (name: string) => boolean): string {
  const found = readdirSync(dir).filter(accept);
  if (found.length !== 1 || !found[0]) throw new Error(`test guest: expected one match in ${dir}, found ${JSON.stringify(found)}`);
  return found[0];
}

function writeExecutable(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o755 });
}

/** Every path under root, relative and starting with '.', parents before children (as `find .`). */
function listTree(root: string): string[] {
  const paths = ['.'];
  const walk = (relative: string): void => {
    for (const name of readdirSync(path.join(root, relative)).sort()) {
      const child = `${relative}/${name}`;
      paths.push(child);
      if (statSync(path.join(root, child)).isDirectory()) walk(child);
    }
  };
  walk('.');
  return paths;
}

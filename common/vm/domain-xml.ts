// The libvirt domain XML of a VM on one node: templates/libvirt/domain.xml.hbs rendered with a
// view of the spec and of the node's facts. Every string of the view is XML-escaped before the
// template sees it (escapeStrings), so a hostile name or path cannot change the document's shape.
// A VM with raw XML gets its own XML back, checked again in case the stored spec was edited.
import { PvcError } from '../errors.ts';
import { renderTemplate } from '../templates.ts';
import type { VmDisk, VmSpec } from '../zk/vm-schema.ts';
import { validateRawXml } from './raw-xml.ts';
import { escapeStrings } from './xml-escape.ts';

export const DOMAIN_TEMPLATE = 'libvirt/domain.xml';

/** What the node that will run the VM adds to its XML; gathered by that node's pvcd. */
export interface DomainNodeFacts {
  node: string;
  /** Absolute folder for serial console logs; each node has its own (see shared/notes §12, blocker 5). */
  consoleLogDir: string;
  /** How this node reaches Ceph; null when it has no Ceph, and then no RBD disk can run here. */
  rbd: { monitors: ReadonlyArray<{ host: string; port: number }>; user: string; secretUuid: string } | null;
  /** The bridge of each pvc network on this node. */
  bridges: Readonly<Record<string, string>>;
}

interface DiskView {
  target: string;
  bus: 'virtio' | 'scsi';
  rbd: { pool: string; image: string; user: string; secretUuid: string; monitors: Array<{ host: string; port: number }> } | null;
  file: { path: string } | null;
}

interface DomainView {
  name: string;
  uuid: string;
  memoryMiB: number;
  vcpus: number;
  kernel: { path: string; initrd: string | null; cmdline: string } | null;
  bootDevice: 'hd' | 'network' | null;
  disks: DiskView[];
  nics: Array<{ mac: string; bridge: string }>;
  serialLog: string | null;
}

/** `<dir>/<vm>.log`; refuses a name that would leave the folder (names are checked on write, this is a second fence). */
export function consoleLogPath(dir: string, vmName: string): string {
  if (vmName === '' || vmName === '.' || vmName === '..' || vmName.includes('/') || vmName.includes('\u0000')) {
    throw new PvcError('bad-input', `vm name ${JSON.stringify(vmName)} cannot name a console log file`);
  }
  return `${dir.replace(/\/+$/, '')}/${vmName}.log`;
}

function diskView(spec: VmSpec, disk: VmDisk, node: DomainNodeFacts): DiskView {
  const bus = disk.target.startsWith('sd') ? 'scsi' : 'virtio';
  if (disk.source.type === 'file') return { target: disk.target, bus, rbd: null, file: { path: disk.source.path } };
  if (!node.rbd) {
    throw new PvcError('refused', `vm ${JSON.stringify(spec.name)} has rbd disk ${disk.target} but node ${JSON.stringify(node.node)} has no ceph access`);
  }
  const { monitors, user, secretUuid } = node.rbd;
  return { target: disk.target, bus, file: null, rbd: { pool: disk.source.pool, image: disk.source.image, user, secretUuid, monitors: [...monitors] } };
}

function view(spec: VmSpec, node: DomainNodeFacts): DomainView {
  const { boot } = spec;
  return {
    name: spec.name,
    uuid: spec.uuid,
    memoryMiB: spec.memoryMiB,
    vcpus: spec.vcpus,
    kernel: boot.kind === 'kernel' ? { path: boot.kernel, initrd: boot.initrd, cmdline: boot.cmdline } : null,
    bootDevice: boot.kind === 'disk' ? 'hd' : boot.kind === 'network' ? 'network' : null,
    disks: spec.disks.map((disk) => diskView(spec, disk, node)),
    nics: spec.nics.map((nic) => {
      const bridge = node.bridges[nic.network];
      if (bridge === undefined) {
        throw new PvcError('refused', `vm ${JSON.stringify(spec.name)} has a nic on network ${JSON.stringify(nic.network)}, which has no bridge on node ${JSON.stringify(node.node)}`);
      }
      return { mac: nic.mac, bridge };
    }),
    serialLog: spec.serial.log ? consoleLogPath(node.consoleLogDir, spec.name) : null,
  };
}

export function renderDomainXml(spec: VmSpec, node: DomainNodeFacts): string {
  if (spec.rawXml !== undefined) {
    validateRawXml(spec.rawXml, spec.name);
    return spec.rawXml;
  }
  return renderTemplate(DOMAIN_TEMPLATE, escapeStrings(view(spec, node)));
}

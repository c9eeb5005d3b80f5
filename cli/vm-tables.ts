// How `pvc vm` results read for people (the table format); json and yaml show the same data
// as it is. Types only from the client library, so that loading this costs nothing.
import type { DefineResult } from '../common/client/vm-define.ts';
import type { ModifyResult } from '../common/client/vm-modify.ts';
import type { RemoveResult } from '../common/client/vm-remove.ts';
import type { SetStateResult } from '../common/client/vm-state.ts';
import type { VmInfoView, VmView } from '../common/client/vm-views.ts';
import { formatFields, formatTable, truncate, type Column } from './output.ts';

/** A reason longer than this is cut in the list; `pvc vm info` shows it whole. */
export const LIST_REASON_MAX_CHARS = 60;

/** The failure or unplaced reason, whichever applies. */
function reasonOf(vm: VmView): string | null {
  return vm.failureReason ?? vm.unplacedReason;
}

const VM_COLUMNS: Column<VmView>[] = [
  { header: 'NAME', value: (v) => v.name },
  { header: 'STATE', value: (v) => v.state },
  { header: 'DESIRED', value: (v) => v.desiredState },
  { header: 'NODE', value: (v) => v.node },
  { header: 'LAST NODE', value: (v) => v.lastNode },
  { header: 'VCPUS', value: (v) => v.vcpus, align: 'right' },
  { header: 'MEM MiB', value: (v) => v.memoryMiB, align: 'right' },
  { header: 'TAGS', value: (v) => v.tags.join(',') },
  { header: 'REASON', value: (v) => truncate(reasonOf(v), LIST_REASON_MAX_CHARS) },
];

export function vmListTable(vms: readonly VmView[], filtered: boolean): string {
  if (vms.length === 0) return filtered ? 'no vm matches the filter' : 'no vms defined yet';
  return formatTable(VM_COLUMNS, vms);
}

function bootText(boot: VmInfoView['boot']): string {
  if (boot.kind !== 'kernel') return boot.kind;
  return `kernel ${boot.kernel}${boot.initrd ? `, initrd ${boot.initrd}` : ''}${boot.cmdline ? `, cmdline "${boot.cmdline}"` : ''}`;
}

export function vmInfoTable(vm: VmInfoView): string {
  const moving = vm.statusNode !== null && vm.statusNode !== vm.node ? ` (reported by ${vm.statusNode})` : '';
  const { placement } = vm;
  return formatFields([
    ['name', vm.name],
    ['uuid', vm.uuid],
    ['state', `${vm.state}${moving}`],
    ['desired state', vm.desiredState],
    ['node', vm.node ?? 'none (placement chooses)'],
    ['last node', vm.lastNode],
    ['failure reason', vm.failureReason],
    ['unplaced reason', vm.unplacedReason],
    ['vcpus', vm.vcpus],
    ['memory MiB', vm.memoryMiB],
    ['tags', vm.tags.join(', ')],
    ['disks', vm.disks.map((d) => `${d.target}=${d.source.type === 'rbd' ? `rbd:${d.source.pool}/${d.source.image}` : `file:${d.source.path}`}`).join(' ')],
    ['nics', vm.nics.map((n) => `${n.network}=${n.mac}`).join(' ')],
    ['boot', vm.rawXml ? 'from its raw domain xml' : bootText(vm.boot)],
    ['serial log', vm.serial.log],
    ['node limit', placement.nodeLimit.join(', ') || 'any node'],
    ['selector', placement.selector ?? 'cluster default'],
    ['autostart', placement.autostart],
    ['migration', `${placement.migrationMethod}, max downtime ${placement.maxDowntimeMs} ms`],
    ['raw xml', vm.rawXml],
    ['cpu time ms', vm.stats?.cpuTimeMs],
    ['status written at', vm.updatedAtMs === null ? null : new Date(vm.updatedAtMs).toISOString()],
  ]);
}

export function defineText(result: DefineResult): string {
  const where = result.node === null ? 'placement chooses its node' : `node ${result.node}`;
  return `defined vm ${result.name} (uuid ${result.uuid}): desired state ${result.desiredState}, ${where}`;
}

export function modifyText(result: ModifyResult): string {
  if (!result.changed) return `vm ${result.name} unchanged: the definition gives the spec it has`;
  const when = result.takesEffectAtNextStart ? `\nthe vm may be running: the change takes effect at its next start (pvc vm restart ${result.name})` : '';
  return `modified vm ${result.name}${when}`;
}

export function removeText(result: RemoveResult): string {
  return `removed vm ${result.name}${result.lastState ? ` (last reported ${result.lastState})` : ''}`;
}

export function setStateText(result: SetStateResult): string {
  const reset = result.resetFailure ? '; cleared its failure so that its node tries again' : '';
  const where = result.node ? ` on node ${result.node}` : '';
  if (result.outcome === 'requested') {
    return `asked vm ${result.name} to ${result.action} (desired state was ${result.previousDesiredState})${reset}; not waiting (pvc vm info ${result.name} shows progress)`;
  }
  if (result.outcome === 'already') return `vm ${result.name} was already asked to ${result.action}; nothing changed; it is ${result.state}${where}`;
  return `vm ${result.name} is ${result.state}${where} after ${result.elapsedMs} ms${reset}`;
}

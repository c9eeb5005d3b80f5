// The nodes as placement sees them, from what the cluster's tree holds: the size of each node's
// hypervisor, and what is assigned to it. Shared by the primary's placement and by clients that
// pick a migration target. Nodes without a hypervisor run no VMs and are left out.
import { shownDaemonState, type NodeFacts } from '../client/views.ts';
import type { VmSpec } from '../zk/schema.ts';
import type { PlacementNode } from './placement.ts';

export function placementNodes(nodes: readonly NodeFacts[], vms: readonly VmSpec[]): PlacementNode[] {
  return nodes.flatMap((n): PlacementNode[] => {
    const hypervisor = n.status?.hypervisor;
    if (!hypervisor || !n.status) return [];
    const assigned = vms.filter((vm) => vm.node === n.spec.name);
    const provisionedMiB = sum(assigned.map((vm) => vm.memoryMiB));
    return [
      {
        name: n.spec.name,
        daemonState: shownDaemonState(n.status, n.alive, n.fence ?? null),
        domainState: n.spec.domainState === 'flush' ? 'flush' : 'ready',
        memoryTotalMiB: hypervisor.memoryMiB,
        // Counted from what is assigned, started or not, so that a burst of placements never
        // overcommits a node before its guests show up in its memory use.
        memoryUsedMiB: provisionedMiB,
        memoryProvisionedMiB: provisionedMiB,
        vcpusAllocated: sum(assigned.map((vm) => vm.vcpus)),
        load: n.status.host.loadAvg[0],
        vmCount: assigned.length,
      },
    ];
  });
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

// `vm dump`: the libvirt domain XML of a VM as its node would render it when starting it, or the
// stored spec itself. The node's facts are what its pvcd publishes in NodeStatus.hypervisor (its
// console folder, and its Ceph access once set up) and the bridges of the networks in ZooKeeper
// (every node has one per network, named by bridgeNameOf). A VM with an RBD disk on a node
// without Ceph access is refused here for the same reason its node would not start it.
import { PvcError } from '../errors.ts';
import type { DomainNodeFacts } from '../vm/domain-xml.ts';
import { bridgeNameOf, type VmSpec } from '../zk/schema.ts';
import { readAllNetworks } from './network-read.ts';
import { mustReadVmFacts, type VmTarget } from './vm-read.ts';

export async function vmSpec(target: VmTarget, name: string): Promise<VmSpec> {
  return (await mustReadVmFacts(target, name)).spec.value;
}

/** The node facts a VM's domain is rendered with; refuses a node that runs no hypervisor. */
export async function domainNodeFacts(target: VmTarget, node: string): Promise<DomainNodeFacts> {
  const status = await target.store.get(target.layout.nodeStatus(node));
  const hypervisor = status?.value.hypervisor;
  if (!hypervisor) {
    throw new PvcError('refused', `node ${node} reports no hypervisor (its pvcd runs no vms, or has not written its status yet)`);
  }
  const networks = await readAllNetworks(target);
  const bridges = Object.fromEntries(networks.map((n) => [n.value.name, bridgeNameOf(n.value)]));
  return { node, consoleLogDir: hypervisor.consoleLogDir, rbd: hypervisor.rbd ?? null, bridges };
}

export async function dumpVm(target: VmTarget, name: string): Promise<string> {
  const facts = await mustReadVmFacts(target, name);
  const spec = facts.spec.value;
  if (spec.node === null) {
    const why = facts.unplaced ? `: ${facts.unplaced.reason}` : '';
    throw new PvcError('refused', `vm ${name} has no node yet${why}; its xml depends on the node (use --spec for the stored spec)`);
  }
  // Loaded here: the template engine is needed by no other command.
  const [{ renderDomainXml }, nodeFacts] = await Promise.all([import('../vm/domain-xml.ts'), domainNodeFacts(target, spec.node)]);
  return renderDomainXml(spec, nodeFacts);
}

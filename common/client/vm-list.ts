// `vm list` and `vm info`: reads of every VM (or one) turned into views. All VMs are read with
// pipelined gets (readAllVmFacts sends every request before awaiting any), so a list of 1,000
// VMs costs a few round trips' worth of time, not 1,000 of them.
import { readAllVmFacts, mustReadVmFacts, type VmTarget } from './vm-read.ts';
import { vmInfoView, vmViews, type VmInfoView, type VmListFilter, type VmView } from './vm-views.ts';

export async function listVms(target: VmTarget, filter: VmListFilter = {}): Promise<VmView[]> {
  return vmViews(await readAllVmFacts(target.store, target.layout), filter);
}

export async function vmInfo(target: VmTarget, name: string): Promise<VmInfoView> {
  return vmInfoView(await mustReadVmFacts(target, name));
}

// Timeouts per kind of hypervisor call, shared by the real adapter (each virsh process is killed
// after its limit) and the simulation (a hung call fails after the same limit).
export interface HypervisorTimeouts {
  /** list, state, info, dumpxml, nodeinfo, job info, domstats: reads of libvirtd's own state (tens of ms here). */
  queryMs: number;
  /** define, undefine: write a file under /etc/libvirt. */
  defineMs: number;
  /** start: spawns QEMU; 0.26 s here, seconds when the machine is busy. */
  startMs: number;
  /** shutdown only sends the ACPI button press; the guest powers off later. */
  shutdownMs: number;
  /** destroy: SIGTERM then SIGKILL to QEMU, 1.6 s here. */
  destroyMs: number;
  /** domjobabort after a migration ran out of time. */
  abortMs: number;
}

export const DEFAULT_HYPERVISOR_TIMEOUTS: Readonly<HypervisorTimeouts> = {
  queryMs: 15_000,
  defineMs: 30_000,
  startMs: 60_000,
  shutdownMs: 30_000,
  destroyMs: 60_000,
  abortMs: 30_000,
};

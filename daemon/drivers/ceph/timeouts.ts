// Timeouts per kind of Ceph call, shared by the real adapter (each ceph/rbd process is killed after
// its limit) and the simulation (a hung call fails after the same limit). Transfers (import,
// export) take their limit from the caller: it depends on the image's size.
export interface CephTimeouts {
  /**
   * How long a client waits for a monitor before it reports the cluster unreachable (ceph
   * --connect-timeout, rbd --client-mount-timeout; whole seconds).
   */
  connectS: number;
  /** Reads: status, df, pool and OSD lists, rbd info/ls/snap ls/lock ls/status (tens of ms to ~0.3 s here). */
  queryMs: number;
  /** Metadata changes: rbd create/rm/resize/rename/clone/snap *, blocklist, OSD in/out (~0.05 s here). */
  changeMs: number;
  /** Pool create/remove: the new PGs must peer before `rbd pool init` returns (seconds here). */
  poolMs: number;
  /** OSD add/remove: mkfs formats the block file, the daemon starts and reports up (~7 s here). */
  osdMs: number;
  /** A removed or stopped daemon's exit, and cleanup after a failed transfer. */
  cleanupMs: number;
}

export const DEFAULT_CEPH_TIMEOUTS: Readonly<CephTimeouts> = {
  connectS: 10,
  queryMs: 30_000,
  changeMs: 60_000,
  poolMs: 180_000,
  osdMs: 300_000,
  cleanupMs: 90_000,
};

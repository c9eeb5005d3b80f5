// What the storage operations work on. Reads need only the cluster's tree; changes also need
// Ceph itself, through a CephDriver the caller passes in (the CLI builds the real one from the
// connection's Ceph settings; tests pass the simulation). common/ imports the port's types only:
// the driver's code stays in daemon/ and is never loaded through here.
import type { CephDriver, CephErrorKind } from '../../daemon/drivers/ceph/port.ts';
import { PvcError, errorMessage } from '../errors.ts';
import type { ZkLayout } from '../zk/schema.ts';
import type { ZkStore } from '../zk/store.ts';

export type { CephDriver };

export interface StorageReadTarget {
  readonly store: ZkStore;
  readonly layout: ZkLayout;
}

export interface StorageTarget extends StorageReadTarget {
  readonly ceph: CephDriver;
}

/** The kind of a CephError from the driver, read by shape so that common/ needs no value import from daemon/. */
export function cephErrorKind(error: unknown): CephErrorKind | null {
  if (!(error instanceof PvcError) || error.name !== 'CephError') return null;
  return (error as PvcError & { kind: CephErrorKind }).kind;
}

/**
 * Runs one Ceph call of an operation; a failure becomes a PvcError that says what pvc was doing
 * (`what`, e.g. "cannot add volume vms/disk0") before what Ceph said, keeping the code (so an
 * unreachable Ceph still exits 2).
 */
export async function cephStep<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw cephFailed(what, error);
  }
}

/** A failed Ceph call as the error of the operation `what`. */
export function cephFailed(what: string, error: unknown): PvcError {
  if (error instanceof PvcError) return new PvcError(error.code, `${what}: ${error.message}`, { cause: error });
  return new PvcError('refused', `${what}: ${errorMessage(error)}`, { cause: error });
}

/**
 * The spec write after Ceph succeeded failed: the object exists in Ceph without a spec. Says so,
 * since the status refresh will list it as unmanaged until someone cleans it up.
 */
export function notRecorded(object: string, error: unknown): PvcError {
  const code = error instanceof PvcError ? error.code : 'refused';
  return new PvcError(
    code,
    `${object} was changed in ceph but not recorded in zookeeper (${errorMessage(error)}); ` +
      'pvc storage status lists it as unmanaged until it is recorded or removed',
    { cause: error },
  );
}

// ZooKeeper digest identities of the store (docs/zk-schema.md "ACLs"): the cluster identity every
// pvcd and CLI share, and pvcd's optional daemon identity, which alone may read BMC passwords.
import crypto from 'node:crypto';
import { PvcError } from '../errors.ts';

export interface ZkAuth {
  user: string;
  password: string;
}

/** Who a created node is for: everyone with the cluster identity, or the daemon identity only. */
export type NodeAcl = 'cluster' | 'daemon';

/** The id of a digest ACL entry: `user:base64(sha1(user:password))`. */
export function digestId(auth: ZkAuth): string {
  const hash = crypto.createHash('sha1').update(`${auth.user}:${auth.password}`).digest('base64');
  return `${auth.user}:${hash}`;
}

/** ZooKeeper said NO_AUTH: a wrong password, or (for the cluster identity) a node under the daemon-only ACL. */
export function notAuthorized(op: string, path: string, auth: ZkAuth, cause: unknown): PvcError {
  return new PvcError('not-authorized', `zookeeper refused ${op} ${path} for user ${JSON.stringify(auth.user)}: wrong user or password, or a node only pvcd's daemon identity may read`, { cause });
}

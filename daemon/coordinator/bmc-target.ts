// The fencer's read of a node's BMC: the public part (host, port, user) and the password from
// its own znode, which may carry the daemon-only ACL (docs/zk-schema.md "ACLs"), so it is read
// with this pvcd's session, which holds the daemon identity when one is configured.
import { PvcError } from '../../common/errors.ts';
import type { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import type { BmcTarget } from '../drivers/ipmi/port.ts';

export type BmcRead = { kind: 'none' } | { kind: 'found'; bmc: BmcTarget } | { kind: 'unusable'; detail: string };

export async function readBmcTarget(store: ZkStore, layout: ZkLayout, node: string): Promise<BmcRead> {
  const shown = await store.get(layout.nodeBmc(node));
  if (!shown) return { kind: 'none' };
  const { host, port, username } = shown.value;
  let password: string | undefined;
  try {
    // Fall back on a password an older pvcd left in the public document.
    password = (await store.get(layout.nodeBmcSecret(node)))?.value.password ?? shown.value.password;
  } catch (error) {
    if (!(error instanceof PvcError && error.code === 'not-authorized')) throw error;
    return { kind: 'unusable', detail: `cannot read the password of bmc ${host}:${port}: this pvcd lacks the daemon identity it is stored under (zookeeper.daemonUser)` };
  }
  if (password === undefined) return { kind: 'unusable', detail: `bmc ${host}:${port} has no password stored yet` };
  return { kind: 'found', bmc: { host, port, username, password } };
}

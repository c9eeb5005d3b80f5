// What pvcd does for high availability at start: publish this node's BMC (from its config) for
// the primary's fencer, and decide whether this node fences itself when cut off from ZooKeeper.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { PvcError, errorMessage } from '../../common/errors.ts';
import type { Bmc, BmcSecret, ZRef, ZkLayout } from '../../common/zk/schema.ts';
import { SKIP, type NodeAcl, type ZkStore } from '../../common/zk/store.ts';
import type { PvcdConfig } from '../config.ts';

/** The BMC document from the config; the password file is read here, at start. */
export function bmcFromConfig(config: PvcdConfig): Bmc | null {
  const bmc = config.bmc;
  if (!bmc) return null;
  let password = bmc.password;
  if (password === undefined) {
    try {
      password = readFileSync(bmc.passwordFile as string, 'utf8').trim();
    } catch (error) {
      throw new PvcError('bad-input', `cannot read bmc.passwordFile ${bmc.passwordFile}: ${errorMessage(error)}`);
    }
    if (!password) throw new PvcError('bad-input', `bmc.passwordFile ${bmc.passwordFile} is empty`);
  }
  return { host: bmc.host, port: bmc.port, username: bmc.username, password };
}

/**
 * Writes /nodes/<node>/bmc (host, port, user) and /nodes/<node>/bmc-secret (the password, under
 * the daemon-only ACL) when the config has a BMC and they differ; logs host and port only. The
 * password is written first, so the fencer never finds the public part without it.
 */
export async function publishBmc(store: ZkStore, layout: ZkLayout, config: PvcdConfig, log: Logger): Promise<void> {
  const bmc = bmcFromConfig(config);
  if (!bmc) return;
  // A config with a bmc always names the daemon identity (config.ts refuses one without), and
  // pvcd's store holds it exactly then (runtime/pvcd.ts).
  const acl: NodeAcl = 'daemon';
  await publishBmcSecret(store, layout.nodeBmcSecret(config.node), bmc.password, acl);
  const shown = { host: bmc.host, port: bmc.port, username: bmc.username };
  await store.update(layout.nodeBmc(config.node), (current) =>
    // A document of an older pvcd may still hold the password: rewriting it drops it.
    current && current.host === shown.host && current.port === shown.port && current.username === shown.username && current.password === undefined ? SKIP : shown,
  );
  log.info({ bmc: `${bmc.host}:${bmc.port}`, secretAcl: acl }, 'bmc published');
}

async function publishBmcSecret(store: ZkStore, ref: ZRef<BmcSecret>, password: string, acl: NodeAcl): Promise<void> {
  try {
    await store.update(ref, (current) => (current?.password === password ? SKIP : { password }), acl);
  } catch (error) {
    // Written under the daemon ACL by a pvcd whose daemon identity has since changed or been
    // removed: unreadable now, but its parent lets the cluster identity delete it.
    if (!(error instanceof PvcError && error.code === 'not-authorized')) throw error;
    await store.removeIfPresent(ref);
    await store.create(ref, { password }, 'persistent', acl);
  }
  // A secret written before the daemon identity was configured (or after it was dropped) gets
  // the ACL the config asks for now.
  await store.setAcl(ref, acl);
}

/** The self-fence bound, or null when this node does not fence itself (`auto`: only without a BMC). */
export function selfFenceBoundMs(config: PvcdConfig): number | null {
  const { mode, afterMs } = config.ha.selfFence;
  if (mode === 'off' || !config.hypervisor) return null;
  if (mode === 'auto' && config.bmc) return null;
  return afterMs;
}

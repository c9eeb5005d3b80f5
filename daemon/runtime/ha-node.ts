// What pvcd does for high availability at start: publish this node's BMC (from its config) for
// the primary's fencer, and decide whether this node fences itself when cut off from ZooKeeper.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { PvcError, errorMessage } from '../../common/errors.ts';
import type { Bmc, ZkLayout } from '../../common/zk/schema.ts';
import { SKIP, type ZkStore } from '../../common/zk/store.ts';
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

/** Writes /nodes/<node>/bmc when the config has one and it differs; logs host and port only. */
export async function publishBmc(store: ZkStore, layout: ZkLayout, config: PvcdConfig, log: Logger): Promise<void> {
  const bmc = bmcFromConfig(config);
  if (!bmc) return;
  await store.update(layout.nodeBmc(config.node), (current) =>
    current && current.host === bmc.host && current.port === bmc.port && current.username === bmc.username && current.password === bmc.password ? SKIP : bmc,
  );
  log.info({ bmc: `${bmc.host}:${bmc.port}` }, 'bmc published');
}

/** The self-fence bound, or null when this node does not fence itself (`auto`: only without a BMC). */
export function selfFenceBoundMs(config: PvcdConfig): number | null {
  const { mode, afterMs } = config.ha.selfFence;
  if (mode === 'off' || !config.hypervisor) return null;
  if (mode === 'auto' && config.bmc) return null;
  return afterMs;
}

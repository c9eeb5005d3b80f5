// The executor of the link planner's actions (reconcile/network-plan.ts): each action is one
// links-driver call. Actions are idempotent in effect: a create that finds the link made (by a
// pass that crashed halfway) and a delete that finds it gone count as done. A failed action does
// not stop the others (one broken network must not hold back the rest); the failures are returned,
// and the next pass plans again from what is really there.
import { errorMessage } from '../../common/errors.ts';
import { isLinkError, type LinksDriver } from '../drivers/links/port.ts';
import type { LinkAction } from '../reconcile/network-plan.ts';

export interface ActionFailure {
  action: LinkAction;
  error: string;
}

export async function applyLinkActions(driver: LinksDriver, actions: readonly LinkAction[]): Promise<ActionFailure[]> {
  const failures: ActionFailure[] = [];
  for (const action of actions) {
    try {
      await applyOne(driver, action);
    } catch (error) {
      if (isLinkError(error, 'exists') && action.type.startsWith('create-')) continue;
      if (isLinkError(error, 'not-found') && action.type === 'delete') continue;
      failures.push({ action, error: errorMessage(error) });
    }
  }
  return failures;
}

async function applyOne(driver: LinksDriver, action: LinkAction): Promise<void> {
  switch (action.type) {
    case 'delete':
      return driver.deleteLink(action.name);
    case 'create-bridge':
      return driver.createBridge(action.name, action.mtu);
    case 'create-vxlan':
      return driver.createVxlan({ name: action.name, vni: action.vni, local: action.local, dstPort: action.dstPort, mtu: action.mtu });
    case 'create-vlan':
      return driver.createVlan({ name: action.name, parent: action.parent, vlanId: action.vlanId, mtu: action.mtu });
    case 'set-mtu':
      return driver.setMtu(action.name, action.mtu);
    case 'set-master':
      return driver.setMaster(action.name, action.master);
    case 'set-bridge-port':
      return driver.setBridgePort(action.name, { learning: action.learning, neighSuppress: action.neighSuppress });
    case 'set-up':
      return driver.setUp(action.name, true);
    default: {
      const unknown: never = action;
      throw new Error(`unknown link action ${JSON.stringify(unknown)}`);
    }
  }
}

// The IPMI contract against real BMCs: ipmi_sim processes (scripts/lib/ipmi-bmc.ts) driven
// through ipmitool. The silent BMC is a real ipmi_sim frozen with SIGSTOP.
import path from 'node:path';
import { inject } from 'vitest';
import { IpmitoolDriver } from '../../daemon/drivers/ipmi/ipmitool.ts';
import type { PowerState } from '../../daemon/drivers/ipmi/port.ts';
import { BmcFleet } from '../../scripts/lib/ipmi-bmc.ts';
import { ipmiContract } from './ipmi.contract.ts';

ipmiContract('ipmitool against ipmi_sim', async () => {
  const events: Array<{ state: PowerState }> = [];
  const bmcs = await BmcFleet.start({
    dir: path.join(inject('testRunDir'), `ipmi-contract-${process.pid}`),
    nodes: ['bmc-a', 'bmc-b'],
    password: 's3cret-real',
    onPower: (node, state) => {
      if (node === 'bmc-a') events.push({ state });
    },
  });
  bmcs.setUnreachable('bmc-b', true);
  return { driver: new IpmitoolDriver(), target: bmcs.target('bmc-a'), silent: bmcs.target('bmc-b'), events, stop: () => bmcs.stop() };
});

// Joining a Ceph question that is already in flight (common/client/storage-shared-reads.ts): one
// call for concurrent askers, a fresh call once it is answered, failures shared and not kept.
import { describe, expect, it } from 'vitest';
import { joinInFlight } from '../../common/client/storage-shared-reads.ts';
import type { CephDriver } from '../../common/client/storage-target.ts';

const driver = () => ({}) as CephDriver;

describe('joinInFlight', () => {
  it('lets concurrent askers share one call, per driver and key', async () => {
    const ceph = driver();
    let calls = 0;
    const ask = () => joinInFlight(ceph, 'pool-usage', async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return [calls];
    });
    const answers = await Promise.all([ask(), ask(), ask()]);
    expect(calls).toBe(1);
    expect(answers).toEqual([[1], [1], [1]]);
    await Promise.all([joinInFlight(ceph, 'other', async () => (calls += 1)), joinInFlight(driver(), 'pool-usage', async () => (calls += 1))]);
    expect(calls).toBe(3);
  });

  it('asks again once answered, and does not keep a failure', async () => {
    const ceph = driver();
    let calls = 0;
    await expect(Promise.all([1, 2].map(() => joinInFlight(ceph, 'k', async () => {
      calls += 1;
      throw new Error('ceph unreachable');
    })))).rejects.toThrow('ceph unreachable');
    expect(calls).toBe(1);
    expect(await joinInFlight(ceph, 'k', async () => ++calls)).toBe(2);
  });
});

// What the keepalive reports about the machine: load, cores, memory and uptime.
import os from 'node:os';
import type { NodeStatus } from '../../common/zk/schema.ts';

const BYTES_PER_MIB = 1024 * 1024;

export function readHostStats(): NodeStatus['host'] {
  const totalMiB = Math.round(os.totalmem() / BYTES_PER_MIB);
  // libuv's free memory on Linux is MemAvailable: what can be had without swapping.
  const freeMiB = Math.round(os.freemem() / BYTES_PER_MIB);
  const [one = 0, five = 0, fifteen = 0] = os.loadavg();
  return {
    cores: Math.max(1, os.availableParallelism()),
    loadAvg: [round2(one), round2(five), round2(fifteen)],
    memoryTotalMiB: totalMiB,
    memoryUsedMiB: Math.max(0, totalMiB - freeMiB),
    memoryFreeMiB: freeMiB,
    uptimeS: Math.floor(os.uptime()),
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

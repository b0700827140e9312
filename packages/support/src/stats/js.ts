import { type StatsFs, statfsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem, uptime } from 'node:os';
import { fromNodeIoError } from '@aios/utils';
import type { StatsBackend, SystemSample } from './types.js';

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): { times: CpuTimes; count: number } {
  const list = cpus();
  let busy = 0;
  let total = 0;
  for (const { times } of list) {
    const sum = times.user + times.nice + times.sys + times.idle + times.irq;
    total += sum;
    busy += sum - times.idle;
  }
  return { times: { busy, total }, count: list.length };
}

const space = (s: StatsFs) => ({
  total: s.blocks * s.bsize,
  free: s.bfree * s.bsize,
  available: s.bavail * s.bsize,
});

/** The js implementation: `node:os`, `process` and `fs.statfs`. */
export function createJsStats(): StatsBackend {
  let previous: CpuTimes | undefined;
  return {
    source: 'node:os',
    sample(): SystemSample {
      const { times, count } = cpuTimes();
      let cpuBusy: number | null = null;
      if (previous) {
        const total = times.total - previous.total;
        cpuBusy = total > 0 ? Math.min(1, Math.max(0, (times.busy - previous.busy) / total)) : 0;
      }
      previous = times;
      const [one = 0, five = 0, fifteen = 0] = loadavg();
      return {
        timeMs: Date.now(),
        cpuCount: count,
        loadAvg: [one, five, fifteen],
        cpuBusy,
        memTotal: totalmem(),
        memAvailable: freemem(),
        processRss: process.memoryUsage.rss(),
        uptimeS: uptime(),
      };
    },
    diskSpaceSync(path) {
      try {
        return space(statfsSync(path));
      } catch (error) {
        throw fromNodeIoError(error, path);
      }
    },
    async diskSpace(path) {
      try {
        return space(await statfs(path));
      } catch (error) {
        throw fromNodeIoError(error, path);
      }
    },
  };
}

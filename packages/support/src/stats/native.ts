import { callNative } from '@aios/utils';
import type { SupportBinding } from '../binding.js';
import type { StatsBackend, SystemSample } from './types.js';

/** The native implementation: direct /proc reads on Linux, the sysinfo crate elsewhere. */
export function createNativeStats(
  binding: SupportBinding,
  source?: 'procfs' | 'portable',
): StatsBackend {
  const sampler = callNative(() => new binding.NativeSampler(source));
  return {
    source: sampler.source === 'procfs' ? 'procfs' : 'sysinfo',
    sample(): SystemSample {
      const s = callNative(() => sampler.sample());
      return {
        timeMs: s.timeMs,
        cpuCount: s.cpuCount,
        loadAvg: [s.loadAvg[0] ?? 0, s.loadAvg[1] ?? 0, s.loadAvg[2] ?? 0],
        cpuBusy: s.cpuBusy ?? null,
        memTotal: s.memTotal,
        memAvailable: s.memAvailable,
        processRss: s.processRss,
        uptimeS: s.uptimeS,
      };
    },
    diskSpaceSync(path) {
      return callNative(() => binding.diskSpace(path));
    },
    async diskSpace(path) {
      return callNative(() => binding.diskSpaceAsync(path));
    },
  };
}

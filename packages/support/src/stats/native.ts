import { fromNativeError } from '@aios/utils';
import type { SupportBinding } from '../binding.js';
import type { StatsBackend, SystemSample } from './types.js';

/** The native implementation: direct /proc reads on Linux, the sysinfo crate elsewhere. */
export function createNativeStats(
  binding: SupportBinding,
  source?: 'procfs' | 'portable',
): StatsBackend {
  let sampler: InstanceType<SupportBinding['NativeSampler']>;
  try {
    sampler = new binding.NativeSampler(source);
  } catch (error) {
    throw fromNativeError(error);
  }
  return {
    source: sampler.source === 'procfs' ? 'procfs' : 'sysinfo',
    sample(): SystemSample {
      let s: ReturnType<typeof sampler.sample>;
      try {
        s = sampler.sample();
      } catch (error) {
        throw fromNativeError(error);
      }
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
      try {
        return binding.diskSpace(path);
      } catch (error) {
        throw fromNativeError(error);
      }
    },
    async diskSpace(path) {
      try {
        return await binding.diskSpaceAsync(path);
      } catch (error) {
        throw fromNativeError(error);
      }
    },
  };
}

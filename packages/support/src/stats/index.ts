import { dirname, resolve } from 'node:path';
import {
  AiosError,
  type ImplementationReport,
  invalidInput,
  isAiosError,
  type NativeMode,
} from '@aios/utils';
import { loadSupportBinding } from '../binding.js';
import { createJsStats } from './js.js';
import { createNativeStats } from './native.js';
import type { DiskSpace, SystemSample } from './types.js';

export type { DiskSpace, SystemSample } from './types.js';

/** Cheap system and process figures; one instance keeps CPU times between samples. */
export interface SystemStats {
  readonly implementation: ImplementationReport['implementation'];
  readonly report: ImplementationReport;
  /** Where the figures come from: `procfs`, `sysinfo` (native) or `node:os` (js). */
  readonly source: string;
  sample(): SystemSample;
  /**
   * Space on the file system holding `path`, measured off the JS thread. A path that does
   * not exist yet (a data directory before first use) is measured at its nearest existing
   * ancestor.
   */
  diskSpace(path: string): Promise<DiskSpace>;
  /** `diskSpace` on the calling thread (one statfs call, a few microseconds). */
  diskSpaceSync(path: string): DiskSpace;
}

export interface SystemStatsOptions {
  /** Overrides `AIOS_NATIVE` for this instance. */
  native?: NativeMode;
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path === '') {
    throw invalidInput('path', path, 'a non-empty directory path');
  }
  return resolve(path);
}

function checkSize(space: DiskSpace): DiskSpace {
  if (!(space.total > 0)) {
    throw new AiosError('SUPPORT_DISK_UNKNOWN', `${space.path}: file system reports no size`, {
      details: { path: space.path },
    });
  }
  return space;
}

/** A missing path is measured at its nearest existing ancestor: the next one to try. */
function ancestorAfter(error: unknown, current: string): string {
  const parent = dirname(current);
  if (!isAiosError(error, 'IO_NOT_FOUND') || parent === current) throw error;
  return parent;
}

export function createSystemStats(options: SystemStatsOptions = {}): SystemStats {
  const { binding, report } = loadSupportBinding(options.native);
  const backend = binding ? createNativeStats(binding) : createJsStats();
  return {
    implementation: report.implementation,
    report,
    source: backend.source,
    sample: () => backend.sample(),
    diskSpaceSync(path) {
      let current = checkPath(path);
      for (;;) {
        try {
          return checkSize({ path: current, ...backend.diskSpaceSync(current) });
        } catch (error) {
          current = ancestorAfter(error, current);
        }
      }
    },
    async diskSpace(path) {
      let current = checkPath(path);
      for (;;) {
        try {
          return checkSize({ path: current, ...(await backend.diskSpace(current)) });
        } catch (error) {
          current = ancestorAfter(error, current);
        }
      }
    },
  };
}

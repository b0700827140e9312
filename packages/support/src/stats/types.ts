/** Space on the file system holding a path, in bytes. */
export interface DiskSpace {
  /** The path asked about (or its nearest existing ancestor, see `SystemStats.diskSpace`). */
  path: string;
  total: number;
  /** Free for everyone, including root's reserve. */
  free: number;
  /** Free for an unprivileged writer. */
  available: number;
}

/** One sample of the machine and this process. Bytes, milliseconds and seconds as numbers. */
export interface SystemSample {
  /** Wall-clock time of the sample, ms since the Unix epoch. */
  timeMs: number;
  /** Logical CPUs. */
  cpuCount: number;
  /** 1, 5 and 15 minute load averages (zeros on Windows, which has none). */
  loadAvg: [number, number, number];
  /** Busy share of all CPUs since this sampler's previous sample, 0..1; null on the first. */
  cpuBusy: number | null;
  memTotal: number;
  /** Memory available for new work without swapping (Linux `MemAvailable`). */
  memAvailable: number;
  /** Resident set size of this process. */
  processRss: number;
  /** Seconds since the machine booted. */
  uptimeS: number;
}

/** What each implementation provides; the facade adds validation and error mapping. */
export interface StatsBackend {
  /** Where the figures come from, e.g. `procfs`, `sysinfo`, `node:os`. */
  readonly source: string;
  sample(): SystemSample;
  /** Throws an AiosError (`IO_NOT_FOUND`, ...) when the path cannot be examined. */
  diskSpaceSync(path: string): Omit<DiskSpace, 'path'>;
  /** The same off the JS thread (a hung mount cannot block the event loop). */
  diskSpace(path: string): Promise<Omit<DiskSpace, 'path'>>;
}

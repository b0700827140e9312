/**
 * How hard the suite pushes: kills per operation and implementation (the default gives 20
 * kills of each operation over both implementations). `AIOS_CHAOS_KILLS` raises it for a
 * longer soak.
 */
export const KILLS_PER_IMPLEMENTATION =
  Number.parseInt(process.env.AIOS_CHAOS_KILLS ?? '', 10) || 10;

export * from '@aios/utils';
export { CORES, type CoreDescriptor } from './cores.js';
export { type CoreStatus, coreStatus, type SystemStatus, systemStatus } from './status.js';

export {
  currentHolder,
  describeHolder,
  isStale,
  type LockHolder,
  processStarted,
} from './holder.js';
export {
  acquireLease,
  exclusiveHolder,
  type Lease,
  type LeaseMode,
  type LeaseOptions,
} from './lease.js';

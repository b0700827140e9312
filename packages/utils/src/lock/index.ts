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
  type LeaseHolders,
  type LeaseMode,
  type LeaseOptions,
  leaseHolders,
} from './lease.js';

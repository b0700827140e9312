export {
  integerAtLeast,
  integerInRange,
  isIntegerInRange,
  nonNegativeInteger,
  numberInRange,
  positiveInteger,
} from './numbers.js';

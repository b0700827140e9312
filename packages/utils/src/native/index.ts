export { callNative } from './call.js';
export {
  collectLoadErrors,
  type ImplementationReport,
  loadNativeBinding,
  type NativeLoad,
  type NativeLoadOptions,
} from './bridge.js';
export {
  type Implementation,
  isNativeMode,
  NATIVE_MODES,
  type NativeMode,
  resolveNativeMode,
} from './mode.js';

import { createRequire } from 'node:module';
import type { UtilsBinding } from './hash/native.js';
import { loadNativeBinding, type NativeLoad, type NativeMode } from './native/index.js';

const require = createRequire(import.meta.url);

/** Loads this package's napi binding through the bridge (see ARCHITECTURE.md). */
export function loadUtilsBinding(mode?: NativeMode): NativeLoad<UtilsBinding> {
  return loadNativeBinding<UtilsBinding>({
    core: '@aios/utils',
    load: () => require('../native/index.cjs') as UtilsBinding,
    mode,
  });
}

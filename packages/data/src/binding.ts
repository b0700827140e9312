import { createRequire } from 'node:module';
import { loadNativeBinding, type NativeLoad, type NativeMode } from '@aios/utils';
import type { DataBinding } from './native-driver.js';

const require = createRequire(import.meta.url);

/** Loads this package's napi binding through the bridge (see ARCHITECTURE.md). */
export function loadDataBinding(mode?: NativeMode): NativeLoad<DataBinding> {
  return loadNativeBinding<DataBinding>({
    core: '@aios/data',
    load: () => require('../native/index.cjs') as DataBinding,
    mode,
  });
}

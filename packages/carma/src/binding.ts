import { createRequire } from 'node:module';
import { loadNativeBinding, type NativeLoad, type NativeMode } from '@aios/utils';
import type * as CarmaNative from '../native/index.cjs';

const require = createRequire(import.meta.url);

export type CarmaBinding = typeof CarmaNative;

/** Loads this package's napi binding through the @aios/utils bridge (see ARCHITECTURE.md). */
export function loadCarmaBinding(mode?: NativeMode): NativeLoad<CarmaBinding> {
  return loadNativeBinding<CarmaBinding>({
    core: '@aios/carma',
    load: () => require('../native/index.cjs') as CarmaBinding,
    mode,
  });
}

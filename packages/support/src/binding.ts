import { createRequire } from 'node:module';
import { loadNativeBinding, type NativeLoad, type NativeMode } from '@aios/utils';
import type * as SupportNative from '../native/index.cjs';

const require = createRequire(import.meta.url);

export type SupportBinding = typeof SupportNative;

/** Loads this package's napi binding through the bridge (see ARCHITECTURE.md). */
export function loadSupportBinding(mode?: NativeMode): NativeLoad<SupportBinding> {
  return loadNativeBinding<SupportBinding>({
    core: '@aios/support',
    load: () => require('../native/index.cjs') as SupportBinding,
    mode,
  });
}

import { createRequire } from 'node:module';
import { loadNativeBinding, type NativeLoad, type NativeMode } from '@aios/utils';
import type * as LunaNative from '../native/index.cjs';

const require = createRequire(import.meta.url);

export type LunaBinding = typeof LunaNative;

/** Loads this package's napi binding through the bridge of @aios/utils. */
export function loadLunaBinding(mode?: NativeMode): NativeLoad<LunaBinding> {
  return loadNativeBinding<LunaBinding>({
    core: '@aios/luna',
    load: () => require('../native/index.cjs') as LunaBinding,
    mode,
  });
}

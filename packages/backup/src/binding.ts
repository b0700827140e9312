import { createRequire } from 'node:module';
import { loadNativeBinding, type NativeLoad, type NativeMode } from '@aios/utils';
import type { BackupBinding } from './engine/native.js';

const require = createRequire(import.meta.url);

/** Loads this package's napi binding through the bridge (see ARCHITECTURE.md). */
export function loadBackupBinding(mode?: NativeMode): NativeLoad<BackupBinding> {
  return loadNativeBinding<BackupBinding>({
    core: '@aios/backup',
    load: () => require('../native/index.cjs') as BackupBinding,
    mode,
  });
}

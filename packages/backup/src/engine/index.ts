import type { NativeMode } from '@aios/utils';
import { loadBackupBinding } from '../binding.js';
import { createJsEngine } from './js.js';
import { createNativeEngine } from './native.js';
import type { Engine } from './types.js';

export type * from './types.js';

/** The engine for a native mode: native when the binding loads (or is required), else js. */
export async function createEngine(mode?: NativeMode): Promise<Engine> {
  const { binding, report } = loadBackupBinding(mode);
  return binding ? createNativeEngine(binding, report) : createJsEngine(report);
}

import type { NativeMode } from '@aios/utils';
import { loadCarmaBinding } from '../binding.js';
import { createJsEngine } from './js/index.js';
import { createNativeEngine } from './native.js';
import type { CarmaEngine } from './types.js';

export * from './types.js';

export interface EngineOptions {
  /** Overrides `AIOS_NATIVE` for this engine. */
  native?: NativeMode;
}

/** The engine for this process: native when its binding loads (per `AIOS_NATIVE`), else js. */
export function createEngine(options: EngineOptions = {}): CarmaEngine {
  const { binding, report } = loadCarmaBinding(options.native);
  return binding ? createNativeEngine(binding, report) : createJsEngine(report);
}

import type { ImplementationReport, NativeMode } from '@aios/utils';
import packageJson from '../package.json' with { type: 'json' };
import { loadLunaBinding } from './binding.js';

export * from './budget.js';
export * from './carma.js';
export * from './data.js';
export { LunaErrorCode } from './errors.js';
export {
  ChatClient,
  type ChatClientOptions,
  type ChatRequest,
  type ChatResult,
  chatClientOptionsFromConfig,
  DEFAULT_CANDIDATES,
  type Endpoint,
} from './llm/client.js';
export { parseSse } from './llm/sse.js';
export * from './luna.js';
export * from './memory.js';
export * from './offline.js';
export * from './open.js';
export * from './personality.js';
export { sentenceEnds, sentences, splitSentences } from './sentences.js';
export * from './store.js';
export * from './tokens/index.js';

export const VERSION: string = packageJson.version;

/** Which implementation @aios/luna runs in this process, and why. */
export function implementation(mode?: NativeMode): ImplementationReport {
  return loadLunaBinding(mode).report;
}

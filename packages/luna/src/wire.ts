import { join } from 'node:path';
import { embedderOptionsFromConfig, type Memory, type MemoryOptions } from '@aios/carma';
import type { DataStore } from '@aios/data';
import type { AiosConfig } from '@aios/utils';
import { type CarmaMemoryOptions, carmaMemory } from './carma.js';
import { dataConversationStore } from './data.js';
import type { ChatClient } from './llm/client.js';
import { createLunaFromConfig, type Luna, type LunaOptions } from './luna.js';

/**
 * How CARMA is opened from the shared config: its index files in `<home>/carma`, the
 * embedder of `carma.embedder` (a remote OpenAI-compatible one, or the built-in one of that
 * dimension), `native`. Add the data store that holds its fragments (`data`).
 */
export function carmaOptionsFromConfig(
  config: Pick<AiosConfig, 'home' | 'native' | 'carma'>,
): MemoryOptions {
  const embedding = embedderOptionsFromConfig(config.carma.embedder);
  return { dir: join(config.home, 'carma'), native: config.native, ...embedding };
}

/** The cores a Luna of the composed system works on, opened (and later closed) by its caller. */
export interface LunaCores {
  config: AiosConfig;
  /** The data store: conversations, feedback and personality (`dataConversationStore`). */
  data: DataStore;
  /** CARMA, on the same data store: the long-term memory (`carmaMemory`). */
  carma: Memory;
  /** The one chat client of the system, or null for offline answers only. */
  llm: ChatClient | null;
}

export interface LunaOnCoresOptions extends Partial<Omit<LunaOptions, 'memory' | 'store' | 'llm'>> {
  /** How Luna uses CARMA (mode defaults to `carma.search.mode`). */
  carma?: Omit<CarmaMemoryOptions, 'mode'> & { mode?: CarmaMemoryOptions['mode'] };
}

/**
 * The wiring of Luna onto opened cores, the one both `createAios` (@aios/core) and
 * `openLuna` use: CARMA as the memory (search mode and k from `carma.search`), the data
 * store as the conversation store, the chat client given, tokens from `luna.encoding` and
 * `native`. Luna's feedback then reinforces CARMA and records itself in one transaction of
 * the data store (CARMA must keep its fragments in that store for this). On a data store
 * open to read only (`DataStore.readOnly`: a read-only home) Luna answers as ever and
 * records nothing (`recordExchanges: false`, unless `options` say otherwise).
 */
export function lunaOnCores(cores: LunaCores, options: LunaOnCoresOptions = {}): Luna {
  const { config, data, carma, llm } = cores;
  const { carma: carmaOptions, ...parts } = options;
  return createLunaFromConfig(config, {
    // A store open to read only (a read-only home) records no answer.
    ...(data.readOnly !== undefined ? { recordExchanges: false } : {}),
    ...parts,
    memory: carmaMemory(carma, { mode: config.carma.search.mode, ...carmaOptions }),
    store: dataConversationStore(data),
    llm,
  });
}

import { join } from 'node:path';
import { type Memory, OpenAIEmbedder, openMemory } from '@aios/carma';
import { type DataStore, openDataStore } from '@aios/data';
import {
  type AiosConfig,
  invalidInput,
  type LoadConfigOptions,
  loadConfig,
  type NativeMode,
} from '@aios/utils';
import { type CarmaMemoryOptions, carmaMemory } from './carma.js';
import { dataConversationStore } from './data.js';
import { createLunaFromConfig, type Luna, type LunaOptions } from './luna.js';

export interface OpenLunaOptions extends Partial<LunaOptions> {
  /** The shared config; default `loadConfig(configOptions).config`. */
  config?: AiosConfig;
  configOptions?: LoadConfigOptions;
  /**
   * CARMA's directory (its vector index files; its fragments too when `store` is given
   * and no data store is opened); default `<config.home>/carma`.
   */
  carmaDir?: string;
  /** How Luna uses CARMA (mode defaults to `carma.search.mode`). */
  carma?: Omit<CarmaMemoryOptions, 'mode'> & { mode?: CarmaMemoryOptions['mode'] };
}

/** A Luna that owns its cores: `close()` closes the CARMA memory and the data store it opened. */
export interface OpenedLuna extends Luna {
  readonly config: AiosConfig;
  /** The CARMA memory opened for this Luna (undefined when `memory` was given). */
  readonly carma: Memory | undefined;
  /** The data store opened for this Luna (undefined when `store` was given). */
  readonly data: DataStore | undefined;
  /** Flushes and closes what `openLuna` opened; later calls do nothing. */
  close(): Promise<void>;
}

function embedderFromConfig(config: AiosConfig) {
  const e = config.carma.embedder;
  if (e.provider === 'openai') {
    return {
      embedder: new OpenAIEmbedder({
        baseUrl: e.baseUrl,
        model: e.model,
        ...(e.apiKey ? { apiKey: e.apiKey } : {}),
        batchSize: e.batchSize,
        timeoutMs: e.timeoutMs,
        retries: e.maxRetries,
      }),
    };
  }
  return { dimension: e.dimension };
}

/**
 * Opens Luna on the real cores, from the shared config: the SQLite store at `data.path`,
 * which also holds CARMA's fragments (CARMA's index files in `<home>/carma`; embedder from
 * `carma.embedder`, search mode and k from `carma.search`), the chat client from
 * `luna.llm`, tokens from `luna.encoding` and `native`. Pass `memory` or `store` to use
 * your own instead (they are then not closed here).
 */
export async function openLuna(options: OpenLunaOptions = {}): Promise<OpenedLuna> {
  if (typeof options !== 'object' || options === null) {
    throw invalidInput('options', options, 'an options object');
  }
  const {
    config: given,
    configOptions,
    carmaDir,
    carma: carmaOptions,
    memory: givenMemory,
    store: givenStore,
    ...parts
  } = options;
  const config = given ?? loadConfig(configOptions).config;
  const native = (parts.native ?? config.native) as NativeMode;

  let data: DataStore | undefined;
  let carma: Memory | undefined;
  try {
    if (!givenStore) data = await openDataStore({ path: config.data.path, native });
    if (!givenMemory) {
      carma = await openMemory({
        dir: carmaDir ?? join(config.home, 'carma'),
        ...(data ? { data } : {}),
        native,
        ...embedderFromConfig(config),
      });
    }
  } catch (error) {
    await data?.close().catch(() => undefined);
    throw error;
  }
  let luna: Luna;
  try {
    const memory =
      givenMemory ??
      carmaMemory(carma as Memory, { mode: config.carma.search.mode, ...carmaOptions });
    const store = givenStore ?? dataConversationStore(data as DataStore);
    luna = createLunaFromConfig(config, { ...parts, native, memory, store });
  } catch (error) {
    // Bad options: close what was opened before reporting them.
    await carma?.close().catch(() => undefined);
    await data?.close().catch(() => undefined);
    throw error;
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // The memory first: it writes its last accesses and index state into the data store.
      let failure: unknown;
      try {
        await carma?.close();
      } catch (error) {
        failure = error;
      }
      try {
        await data?.close();
      } catch (error) {
        failure ??= error;
      }
      if (failure !== undefined) throw failure;
    })();
    return closing;
  };
  return Object.assign(luna, { config, carma, data, close });
}

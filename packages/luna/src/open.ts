import { type Memory, openMemory } from '@aios/carma';
import { type DataStore, openDataStore } from '@aios/data';
import {
  type AiosConfig,
  invalidInput,
  type LoadConfigOptions,
  loadConfig,
  runAll,
} from '@aios/utils';
import { ChatClient, chatClientOptionsFromConfig } from './llm/client.js';
import type { Luna } from './luna.js';
import { carmaOptionsFromConfig, type LunaOnCoresOptions, lunaOnCores } from './wire.js';

export interface OpenLunaOptions extends LunaOnCoresOptions {
  /** The shared config; default `loadConfig(configOptions).config`. */
  config?: AiosConfig;
  configOptions?: LoadConfigOptions;
  /** The chat client; default one from `luna.llm`; `null`: offline answers only. */
  llm?: ChatClient | null;
}

/** A Luna that owns its cores: `close()` closes the CARMA memory and the data store. */
export interface OpenedLuna extends Luna {
  readonly config: AiosConfig;
  readonly carma: Memory;
  readonly data: DataStore;
  /** Flushes and closes CARMA, then the data store; later calls return the same promise. */
  close(): Promise<void>;
}

/**
 * For @aios/luna on its own: opens the data store at `data.path` and CARMA on it (from the
 * config, `carmaOptionsFromConfig`), and a Luna on them (`lunaOnCores`). The composed
 * system (`createAios` of @aios/core) opens the cores itself and uses `lunaOnCores`.
 */
export async function openLuna(options: OpenLunaOptions = {}): Promise<OpenedLuna> {
  if (typeof options !== 'object' || options === null) {
    throw invalidInput('options', options, 'an options object');
  }
  const { config: given, configOptions, llm: givenLlm, ...parts } = options;
  const config = given ?? loadConfig(configOptions).config;
  const data = await openDataStore({ path: config.data.path, native: config.native });
  let carma: Memory;
  let luna: Luna;
  try {
    carma = await openMemory({ ...carmaOptionsFromConfig(config), data });
  } catch (error) {
    await data.close().catch(() => undefined);
    throw error;
  }
  try {
    const llm =
      givenLlm === undefined
        ? new ChatClient(chatClientOptionsFromConfig(config.luna.llm))
        : givenLlm;
    luna = lunaOnCores({ config, data, carma, llm }, parts);
  } catch (error) {
    // Bad options: close what was opened before reporting them.
    await carma.close().catch(() => undefined);
    await data.close().catch(() => undefined);
    throw error;
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    // The memory before the data store: it writes its last accesses and index state into it.
    closing ??= runAll([() => carma.close(), () => data.close()]);
    return closing;
  };
  return Object.assign(luna, { config, carma, data, close });
}

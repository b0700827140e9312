/** Opening the whole system for one CLI command. */
import type { Command } from 'commander';
import { type Aios, createAios } from '../aios.js';
import { closeOnSignal } from '../lifecycle.js';
import { type GlobalOptions, loadCliConfig } from './shared.js';

export interface SystemOptions extends GlobalOptions {
  offline?: boolean;
}

/** Opens the whole system for one command, closes it afterwards (and on SIGINT/SIGTERM). */
export async function withAios<T>(command: Command, run: (aios: Aios) => Promise<T>): Promise<T> {
  const options = command.optsWithGlobals<SystemOptions>();
  const { config } = loadCliConfig(options);
  const aios = await createAios({ config, offline: options.offline === true });
  const untrack = closeOnSignal(aios);
  try {
    return await run(aios);
  } finally {
    untrack();
    await aios.close();
  }
}

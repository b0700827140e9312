/** Opening the whole system for one CLI command. */
import { preloadVocabulary } from '@aios/luna';
import { AiosError } from '@aios/utils';
import type { Command } from 'commander';
import { type Aios, createAios } from '../aios.js';
import { startBackgroundCheckpoint } from '../background-checkpoint.js';
import { closeOnSignal } from '../lifecycle.js';
import { type GlobalOptions, loadCliConfig } from './shared.js';

export interface SystemOptions extends GlobalOptions {
  offline?: boolean;
  /** The model for this call (`ask`, `chat`): `luna.llm.model` for this command only. */
  model?: string;
}

/** The config settings a command's flags give for this call only. */
function callOverrides(options: SystemOptions): Record<string, unknown> {
  if (options.model === undefined) return {};
  const model = options.model.trim();
  if (model === '') {
    throw new AiosError('INVALID_INPUT', 'model: expected a model id (`aios models` lists them)');
  }
  return { luna: { llm: { model } } };
}

/** Codes of a filesystem that takes no more writes: the disk is full, or read-only. */
const NO_WRITES = new Set(['IO_DISK_FULL', 'IO_READ_ONLY']);

/**
 * Closes the system after a command. What closing writes (the uses of the fragments a
 * search returned, the command's metrics) is bookkeeping: when the disk takes no more, a
 * command whose work is done (a search printed) says so in a warning and still succeeds.
 */
async function closeAfter(aios: Aios, commandDone: boolean): Promise<void> {
  try {
    await aios.close();
  } catch (error) {
    if (!commandDone || !(error instanceof AiosError) || !NO_WRITES.has(error.code)) throw error;
    process.stderr.write(
      `aios: warning: the uses and metrics of this command were not recorded: ${error.message} [${error.code}]\n`,
    );
  }
}

/** "aios memory add": the command as typed, without its arguments. */
export function commandLine(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Opens the whole system for one command, closes it afterwards (and on SIGINT/SIGTERM).
 * `tokens`: the command counts tokens (it asks Luna), so the tokenizer's vocabulary starts
 * loading off the JS thread while the memory opens. `writes`: the command changes the home,
 * so a home that can only be read (`Aios.readOnly`) refuses it at once with `IO_READ_ONLY`,
 * before the memory loads; a command that only reads runs there, writing nothing.
 */
export async function withAios<T>(
  command: Command,
  run: (aios: Aios) => Promise<T>,
  {
    tokens = false,
    deferCheckpoints = true,
    reembed = false,
    writes = false,
  }: { tokens?: boolean; deferCheckpoints?: boolean; reembed?: boolean; writes?: boolean } = {},
): Promise<T> {
  const options = command.optsWithGlobals<SystemOptions>();
  const { config } = loadCliConfig(options, callOverrides(options));
  if (tokens) preloadVocabulary({ encoding: config.luna.encoding, native: config.native });
  const aios = await createAios({
    config,
    offline: options.offline === true,
    deferCheckpoints,
    reembed,
    // A command's own process figures mean nothing once it ends; the system's are journaled.
    processMetrics: false,
    ...(writes ? { writes: `\`${commandLine(command)}\`` } : {}),
  });
  const untrack = closeOnSignal(aios);
  let done = false;
  try {
    const result = await run(aios);
    done = true;
    return result;
  } finally {
    untrack();
    await closeAfter(aios, done);
    if (aios.memory.checkpointDeferred) {
      const pid = startBackgroundCheckpoint(options, config.home);
      if (pid !== undefined) {
        process.stderr.write(
          `aios: the memory's index files are being written in the background (aios memory checkpoint, process ${pid})\n`,
        );
      }
    }
  }
}

/**
 * `withAios` for a command that changes the home: on a home that can only be read it fails
 * at once with `IO_READ_ONLY` naming the home and the command, before the memory loads.
 */
export function withWritableAios<T>(
  command: Command,
  run: (aios: Aios) => Promise<T>,
  options: { tokens?: boolean; deferCheckpoints?: boolean; reembed?: boolean } = {},
): Promise<T> {
  return withAios(command, run, { ...options, writes: true });
}

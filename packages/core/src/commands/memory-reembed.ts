import type { Command } from 'commander';
import { withWritableAios } from './open-system.js';
import { plural } from './plural.js';
import { printJson } from './shared.js';

/**
 * `aios memory reembed`: after `carma.embedder` changed (another preset, dimension or
 * server), the memory refuses to open, its vectors no longer comparable with the new
 * model's; this re-embeds every fragment with the configured embedder. Interrupted, the
 * memory stays as it was, embedded by the old one.
 */
export function registerMemoryReembed(memory: Command): void {
  memory
    .command('reembed')
    .description(
      'embed every fragment again with the configured embedder (after carma.embedder changed, the memory will not open until this is run or the setting is put back)',
    )
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withWritableAios(
        command,
        async (aios) => {
          const reembedded = aios.memory.indexOrigin === 'reembedded';
          const fragments = aios.memory.stats().fragments;
          const e = aios.config.carma.embedder;
          const embedder =
            e.provider === 'builtin'
              ? `built-in, dimension ${e.dimension}`
              : `${e.model} at ${e.baseUrl}`;
          if (options.json) return printJson({ reembedded, fragments });
          console.log(
            reembedded
              ? `re-embedded ${plural(fragments, 'fragment')} with the configured embedder (${embedder})`
              : `nothing to do: the memory's ${plural(fragments, 'fragment')} ${fragments === 1 ? 'is' : 'are'} embedded by the configured embedder already`,
          );
        },
        { reembed: true },
      );
    });
}

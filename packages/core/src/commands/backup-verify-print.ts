import type { VerifyResult } from '@aios/backup';
import { pc } from './colors.js';
import { plural } from './plural.js';

/** Files named per snapshot; the rest are counted. */
const SHOWN = 20;

/**
 * The lines of a verify that found damage: each problem, then what it costs, snapshot by
 * snapshot, the files that can no longer be restored (or that none is lost, when every
 * damaged chunk has an intact copy elsewhere), so that the reader knows what is at stake
 * without `--json`.
 */
export function verifyDamageLines(result: VerifyResult): string[] {
  const lines = [pc.red('repository damaged')];
  for (const e of result.errors) lines.push(`  ${e.code}: ${e.message}`);
  for (const s of result.affectedSnapshots) {
    lines.push(
      pc.red(
        `snapshot ${pc.bold(s.id.slice(0, 12))} cannot restore ${plural(s.paths.length, 'file')}:`,
      ),
    );
    for (const path of s.paths.slice(0, SHOWN)) lines.push(`  ${path}`);
    if (s.paths.length > SHOWN)
      lines.push(pc.dim(`  … and ${s.paths.length - SHOWN} more (--json lists them)`));
  }
  if (result.affectedSnapshots.length === 0 && result.damagedSnapshots.length === 0) {
    lines.push(pc.dim('no snapshot loses a file: every damaged chunk it uses has an intact copy'));
  }
  return lines;
}

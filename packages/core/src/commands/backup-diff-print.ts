import type { ConversationItem, HomeDiff, MemoryItem } from '../backup-diff.js';
import { pc } from './colors.js';
import { shortId } from './conversations.js';
import { displaySource } from './display-path.js';
import { shortFragmentId } from './memory-find.js';

/** Items listed per kind of change; the rest are counted. */
const SHOWN = 20;

const when = (iso: string) => iso.replace('T', ' ').slice(0, 16);

function snippet(text: string, width = 72): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? `${flat.slice(0, width).replace(/\s+\S*$/, '')}…` : flat;
}

function memoryLine(mark: string, m: MemoryItem): string {
  const where = m.source
    ? displaySource(m.source, m.line)
    : `${m.namespace} ${shortFragmentId(m.id)}`;
  return `  ${mark} ${pc.cyan(where)}  ${snippet(m.text)}`;
}

function conversationLine(mark: string, c: ConversationItem, extra = ''): string {
  const title = c.title ? `"${snippet(c.title, 60)}"` : pc.dim(shortId(c.id));
  return `  ${mark} ${title} (${c.messages} message${c.messages === 1 ? '' : 's'}${extra})`;
}

/** One kind of change: how many, and the lines of the first `SHOWN`. */
interface Kind {
  what: string;
  count: number;
  lines: string[];
}

/** The first `SHOWN` items' lines of one kind of change. */
function kind<T>(what: string, items: T[], lines: (item: T) => string[]): Kind {
  return { what, count: items.length, lines: items.slice(0, SHOWN).flatMap(lines) };
}

function section(title: string, kinds: Kind[]): void {
  console.log(`${pc.bold(title)}: ${kinds.map((k) => `${k.count} ${k.what}`).join(', ')}`);
  for (const k of kinds) {
    for (const line of k.lines) console.log(line);
    if (k.count > SHOWN) console.log(pc.dim(`    ... and ${k.count - SHOWN} more`));
  }
}

/** `aios backup diff` as a person reads it: what the home holds that it did not, and back. */
export function printDiff(diff: HomeDiff): void {
  console.log(
    pc.dim(
      `from ${diff.from.id.slice(0, 12)} (${when(diff.from.time)}) to ${diff.to.id.slice(0, 12)} (${when(diff.to.time)})`,
    ),
  );
  const { memories, conversations, files } = diff;
  section('memories', [
    kind('added', memories.added, (m) => [pc.green(memoryLine('+', m))]),
    kind('removed', memories.removed, (m) => [pc.red(memoryLine('-', m))]),
    kind('changed', memories.changed, (m) => [
      pc.yellow(memoryLine('~', m)),
      pc.dim(`      was: ${snippet(m.before)}`),
    ]),
  ]);
  section('conversations', [
    kind('added', conversations.added, (c) => [pc.green(conversationLine('+', c))]),
    kind('removed', conversations.removed, (c) => [pc.red(conversationLine('-', c))]),
    kind('continued', conversations.continued, (c) => [
      pc.yellow(conversationLine('~', c, `, ${c.before} before`)),
    ]),
  ]);
  section('other files', [
    kind('added', files.added, (p) => [pc.green(`  + ${p}`)]),
    kind('removed', files.removed, (p) => [pc.red(`  - ${p}`)]),
    kind('modified', files.modified, (p) => [pc.yellow(`  M ${p}`)]),
  ]);
}

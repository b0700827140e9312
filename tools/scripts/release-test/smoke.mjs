// Smoke test of installed @aios packages, copied into a fresh project by the release test:
//   node smoke.mjs <native|js> <core...>
// For each core: its implementation is the one expected, and one real operation works
// (a hash, a store round trip, a search, a backup and restore, a token count, a health
// check). Prints one line per core; exits 1 on the first failure.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [want, ...cores] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const scratch = mkdtempSync(join(tmpdir(), 'aios-smoke-'));

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const smokes = {
  async utils(utils) {
    const id = await utils.contentId('abc');
    check(id === '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85', `hash ${id}`);
    // CommonJS consumers get the same package and implementation.
    const cjs = require('@aios/utils');
    check(cjs.implementation().implementation === want, 'require() got another implementation');
    return `contentId ok (esm and cjs)`;
  },
  async data(data) {
    const store = await data.openDataStore({ path: join(scratch, 'data.db') });
    try {
      const chat = await store.conversations.create({ title: 'smoke' });
      await store.messages.add([{ conversationId: chat.id, role: 'user', content: 'hello' }]);
      const again = await store.conversations.get(chat.id);
      check(again?.title === 'smoke', `conversation read back: ${JSON.stringify(again)}`);
    } finally {
      await store.close();
    }
    return 'conversation written and read back';
  },
  async carma(carma) {
    const memory = await carma.openMemory();
    try {
      await memory.addMany([
        'The backup runs every Sunday at 3 am',
        'Alice is allergic to peanuts',
        'The Eiffel Tower is in Paris',
      ]);
      const [top] = await memory.search('what is Alice allergic to?', { k: 2 });
      check(/peanuts/.test(top?.fragment?.text ?? ''), `search found ${JSON.stringify(top)}`);
    } finally {
      await memory.close();
    }
    return 'search found the fragment';
  },
  async backup(backup) {
    const source = join(scratch, 'notes');
    mkdirSync(join(source, 'sub'), { recursive: true });
    writeFileSync(join(source, 'a.txt'), 'first note\n'.repeat(1000));
    writeFileSync(join(source, 'sub', 'b.bin'), Buffer.alloc(300_000, 7));
    const repo = await backup.initRepository(join(scratch, 'repo'));
    const { snapshot } = await repo.backup([source]);
    const out = join(scratch, 'restored');
    await repo.restore(snapshot.id, out, { root: source });
    check(
      readFileSync(join(out, 'a.txt'), 'utf8') === 'first note\n'.repeat(1000) &&
        readFileSync(join(out, 'sub', 'b.bin')).equals(Buffer.alloc(300_000, 7)),
      'restored files differ',
    );
    const verified = await repo.verify();
    check(verified.ok !== false, `verify: ${JSON.stringify(verified).slice(0, 300)}`);
    return `snapshot ${snapshot.id.slice(0, 8)} restored`;
  },
  async luna(luna) {
    const tokenizer = luna.createTokenizer();
    const ids = Array.from(tokenizer.encode('hello world'));
    check(JSON.stringify(ids) === '[24912,2375]', `o200k ids ${ids}`);
    const cl100k = luna.createTokenizer({ encoding: 'cl100k_base' });
    check(cl100k.count('hello world') === 2, 'cl100k count');
    check(tokenizer.implementation === want, `tokenizer runs ${tokenizer.implementation}`);
    return 'token counts ok (o200k_base, cl100k_base)';
  },
  async support(support) {
    const { loadConfig } = await import('@aios/utils');
    const { config } = loadConfig({ overrides: { home: scratch } });
    const health = support.createHealthMonitor({ config });
    try {
      const ready = await health.readiness();
      check(['pass', 'warn'].includes(ready.status), `readiness ${JSON.stringify(ready)}`);
      return `readiness ${ready.status}`;
    } finally {
      health.close();
    }
  },
};

try {
  for (const core of cores) {
    const mod = await import(`@aios/${core}`);
    const report = mod.implementation();
    check(report.implementation === want, `expected ${want}, got ${JSON.stringify(report)}`);
    const what = await smokes[core](mod);
    console.log(`  @aios/${core}@${mod.VERSION}: ${report.implementation}, ${what}`);
  }
} catch (error) {
  console.error(`smoke failed: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

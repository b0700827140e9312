import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImplementations, testPdf } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { cli, expectOneLineError, runCli, tempHomes } from './testing/cli.js';

// Hostile input to the built CLI: every refusal is one line with a code and exit status 1,
// never `unexpected error` (70) and never a stack trace.
const tempHome = tempHomes('aios-errors-');
const noStack = /\n\s+at /;

describe('numbers on the command line', () => {
  const home = tempHome();

  it.each(['-1', 'NaN', '2.5', '1e9', '', 'abc', '0', '1001', '0x10'])(
    'memory search -k %j is refused naming the option',
    (value) => {
      const r = runCli(home, ['--offline', 'memory', 'search', 'heron', '-k', value]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `aios: option '-k, --limit <n>' argument '${value}' is invalid: expected a whole number from 1 to 1000 [INVALID_INPUT]\n`,
      );
      expect(r.stderr).not.toMatch(noStack);
    },
  );

  it.each(['2', '-1.5', 'NaN', '', 'one'])('feedback rating %j is refused', (value) => {
    const r = runCli(home, ['--offline', 'feedback', 'some-answer', value]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `aios: argument 'rating' value '${value}' is invalid: expected a rating from -1 to 1 [INVALID_INPUT]\n`,
    );
  });

  it.each(['1.5', '-0.1', 'NaN', '', 'high'])('memory edit --importance %j is refused', (value) => {
    const r = runCli(home, ['--offline', 'memory', 'edit', 'abc', '--importance', value]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("option '--importance <n>'");
    expect(r.stderr).toContain('[INVALID_INPUT]');
  });
});

describe('config keys that are not in the schema', () => {
  const home = tempHome();

  it('set refuses prototype keys and unknown paths, and the file stays as it was', () => {
    for (const key of ['__proto__.polluted', 'constructor.prototype.x', 'carma.search.k.deeper']) {
      const r = runCli(home, ['config', 'set', key, '1']);
      expect(r.code).toBe(1);
      expectOneLineError(r.stderr, 'CONFIG_UNKNOWN_KEY');
    }
    const typo = runCli(home, ['config', 'set', 'carma.serch.k', '3']);
    expect(typo.stderr).toContain('(did you mean carma.search.k?)');
    expect(runCli(home, ['config', 'validate']).code).toBe(0);
  });

  it('get refuses them too instead of printing what the object inherits', () => {
    for (const key of ['constructor', '__proto__', 'toString', 'luna.hasOwnProperty']) {
      const r = runCli(home, ['config', 'get', key]);
      expect(r.stdout).toBe('');
      expect(r.code).toBe(1);
      expectOneLineError(r.stderr, 'CONFIG_UNKNOWN_KEY');
    }
  });

  it('a "__proto__" key in the file is an unknown field, not a prototype', () => {
    const file = join(home, 'proto.json');
    writeFileSync(file, '{"__proto__": {"native": "turbo"}}');
    const r = runCli(home, ['--config', file, 'config', 'validate', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).issues).toMatchObject([
      { path: '__proto__', message: expect.stringContaining('unknown field') },
    ]);
  });
});

describe.each(testImplementations())('config set with AIOS_* set (AIOS_NATIVE=%s)', (impl) => {
  it('validates the file as it will be written, not the config the environment overrides', () => {
    const home = tempHome();
    const env = { AIOS_NATIVE: impl };
    const set = runCli(home, ['config', 'set', 'native', 'fastest'], env);
    expect(set.code).toBe(1);
    expectOneLineError(set.stderr, 'CONFIG_INVALID');
    expect(set.stderr).toContain('native = "fastest"');
    // Nothing was written, so every command still works.
    expect(runCli(home, ['status', '--json'], env).code).toBe(0);
    const good = runCli(home, ['config', 'set', 'native', 'js'], env);
    expect(good.code).toBe(0);
    expect(good.stderr).toBe(
      `aios: note: AIOS_NATIVE is set and overrides native from ${join(home, 'config.json')} while it is\n`,
    );
    expect(JSON.parse(readFileSync(join(home, 'config.json'), 'utf8'))).toEqual({ native: 'js' });
  });
});

describe('unknown AIOS_* variables', () => {
  const home = tempHome();

  it('are named on stderr with the closest config variable, and the command goes on', () => {
    const r = runCli(home, ['config', 'get', 'luna.llm.model'], {
      AIOS_LUNA_LLM_MODEL: 'qwen3',
      AIOS_NATIVEE: 'js',
      AIOS_DEBUG: '',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('\n');
    expect(r.stderr).toBe(
      'aios: warning: AIOS_LUNA_LLM_MODEL is not a config variable and is ignored (did you mean AIOS_LUNA__LLM__MODEL?) [CONFIG_UNKNOWN_ENV]\n' +
        'aios: warning: AIOS_NATIVEE is not a config variable and is ignored (did you mean AIOS_NATIVE?) [CONFIG_UNKNOWN_ENV]\n',
    );
  });
});

describe.each(testImplementations())('a home that cannot be written (AIOS_NATIVE=%s)', (impl) => {
  // Tests run as root, where permission bits do not stop writes: a home below a regular file
  // fails the same calls (mkdir, open) with ENOTDIR, through the same error paths.
  it('opening the system or writing the config is a coded error', () => {
    const base = tempHome();
    writeFileSync(join(base, 'file'), 'not a folder');
    const home = join(base, 'file', 'home');
    const env = { AIOS_NATIVE: impl };
    for (const args of [
      ['--offline', 'memory', 'stats'],
      ['config', 'set', 'logLevel', 'debug'],
      ['--offline', 'ingest', join(base, 'file')],
    ]) {
      const r = runCli(base, ['--home', home, ...args], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^aios: .*(ENOTDIR|a file is in its way).* \[IO_ERROR\]\n$/);
    }
    // A home that is a file itself is named, not an mkdir's EEXIST, whatever the command
    // (one that writes a file into it, or one that would read nothing from it quietly).
    for (const args of [
      ['--offline', 'memory', 'stats'],
      ['config', 'set', 'carma.search.k', '3'],
      ['status'],
      ['doctor'],
    ]) {
      const itself = runCli(base, ['--home', join(base, 'file'), ...args], env);
      expect(itself.code, args.join(' ')).toBe(1);
      expect(itself.stderr, args.join(' ')).toBe(
        `aios: ${join(base, 'file')}: cannot be made the data folder: a file is in its way [IO_ERROR]\n`,
      );
    }
    const dir = join(base, 'dir.json');
    mkdirSync(dir);
    const r = runCli(base, ['--config', dir, 'config', 'set', 'logLevel', 'debug'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[(IO_NOT_A_FILE|IO_ERROR|CONFIG_PARSE)\]\n$/);
  });
});

/**
 * Runs the CLI as a user who may not write `home`: this user when it is not root (for whom
 * permission bits do not count), else nobody (uid 65534) through setpriv.
 */
function runAsOther(home: string, args: string[], env: Record<string, string>) {
  const root = process.getuid?.() === 0;
  const command = root
    ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath]
    : [process.execPath];
  const result = spawnSync(command[0] as string, [...command.slice(1), cli, ...args], {
    encoding: 'utf8',
    cwd: '/',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const canDropRoot = process.getuid?.() !== 0 || existsSync('/usr/bin/setpriv');

describe.each(testImplementations())('a home the user may not write (AIOS_NATIVE=%s)', (impl) => {
  it.skipIf(!canDropRoot)('is read, and every command that writes it is a coded error', () => {
    const base = tempHome();
    chmodSync(base, 0o755);
    const home = join(base, 'home');
    const note = join(base, 'note.md');
    writeFileSync(note, 'The heron fished at dawn.\n');
    const env = { AIOS_NATIVE: impl };
    expect(runCli(base, ['--offline', '--home', home, 'ingest', note], env).code).toBe(0);
    execFileSync('chmod', ['-R', 'a-w,a+rX', home]);
    try {
      // Opened to read only (home-read-only.test.ts covers it in full).
      const stats = runAsOther(home, ['--offline', 'memory', 'stats'], env);
      expect(stats.code, stats.stderr).toBe(0);
      expect(stats.stdout).toMatch(/^fragments +1$/m);
      for (const [args, code] of [
        [['--offline', 'ingest', note], 'IO_READ_ONLY'],
        [['config', 'set', 'logLevel', 'debug'], 'IO_PERMISSION_DENIED'],
      ] as const) {
        const r = runAsOther(home, [...args], env);
        expect(r.stderr).not.toMatch(noStack);
        expect(r.code).toBe(1);
        expectOneLineError(r.stderr, code);
      }
      // A home that does not exist in a folder that may not be written: nothing to read.
      const inner = join(home, 'inner');
      const r = runAsOther(inner, ['--offline', 'memory', 'stats'], env);
      expect(r.code).toBe(1);
      expectOneLineError(r.stderr, 'IO_READ_ONLY');
      expect(r.stderr).toContain(
        `${inner}: the folder of the database is read-only (this user may not write to it): there is no database in it to read`,
      );
    } finally {
      execFileSync('chmod', ['-R', 'u+w', home]);
    }
  });
});

describe.each(testImplementations())(
  'ingest of what is not a regular text file (AIOS_NATIVE=%s)',
  (impl) => {
    const home = tempHome();

    it('FIFOs and devices named on the command line are refused; binary files are skipped', () => {
      execFileSync('mkfifo', [join(home, 'pipe')]);
      for (const path of [join(home, 'pipe'), '/dev/zero']) {
        const r = runCli(home, ['--offline', '--native', impl, 'ingest', path]);
        expect(r.code).toBe(1);
        expectOneLineError(r.stderr, 'IO_NOT_A_FILE');
      }
      writeFileSync(join(home, 'photo.txt'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]));
      writeFileSync(join(home, 'note.md'), 'The heron fished at dawn.\n');
      const r = runCli(home, [
        '--offline',
        '--native',
        impl,
        'ingest',
        join(home, 'photo.txt'),
        join(home, 'note.md'),
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('aios: skipped photo.txt: binary (a NUL byte in the first KiB)\n');
      expect(r.stdout).toContain('ingested 1 file: 1 fragment added, 0 already known; 1 skipped');
    });

    it('cites a PDF by its page, and skips a PDF touched but not changed', () => {
      const file = join(home, 'manual.pdf');
      writeFileSync(
        file,
        testPdf([
          [['Boiler manual'], ['Bleed the radiators every autumn.']],
          [['Warranty'], ['Keep the invoice of the pump.']],
        ]),
      );
      const ingestIt = () => runCli(home, ['--offline', '--native', impl, 'ingest', file]);
      expect(ingestIt().stdout).toContain('ingested 1 file: 2 fragments added');
      const search = runCli(home, [
        '--offline',
        '--native',
        impl,
        'memory',
        'search',
        'invoice pump',
      ]);
      expect(search.stdout).toContain('manual.pdf p. 2');
      utimesSync(file, new Date(), new Date(Date.now() + 5_000));
      expect(ingestIt().stdout).toContain('nothing new: 1 file unchanged since the last ingest');
    });

    it('says how many files of a folder it left for their kind, and which kinds it reads', () => {
      const folder = join(home, 'papers');
      mkdirSync(folder);
      writeFileSync(join(folder, 'a.xlsx'), 'PK');
      writeFileSync(join(folder, 'b.xlsx'), 'PK');
      writeFileSync(join(folder, 'c.ods'), 'PK');
      writeFileSync(join(folder, 'note.md'), 'The kingfisher dived at noon.\n');
      const r = runCli(home, ['--offline', '--native', impl, 'ingest', folder]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('ingested 1 file: 1 fragment added');
      expect(r.stdout).toContain(
        'left 3 files of other kinds in the folders: .xlsx (2), .ods (1); ingest reads .txt .text .org .rst .adoc .asciidoc .md .markdown .html .htm .xhtml .pdf .docx .epub .odt .json .jsonl .ndjson .csv .tsv there (name a file to read it as text)',
      );
    });

    it('skips a broken JSON file found in a folder with the reason, and ingests the rest', () => {
      const folder = join(home, 'exports');
      mkdirSync(folder);
      writeFileSync(join(folder, 'a.md'), 'The otter slid down the bank at dusk.\n');
      writeFileSync(join(folder, 'broken.json'), '{"a":');
      writeFileSync(join(folder, 'log.jsonl'), '{"text":"ok"}\n{"text":\n');
      const r = runCli(home, ['--offline', '--native', impl, 'ingest', folder]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('aios: skipped exports/broken.json: not valid JSON (');
      expect(r.stderr).toContain('aios: skipped exports/log.jsonl: line 2 is not valid JSON (');
      expect(r.stdout).toContain('ingested 1 file: 1 fragment added, 0 already known; 2 skipped');
    });

    it('refuses an empty path rather than take it for the working directory', () => {
      writeFileSync(join(home, 'diary.md'), 'Private: the spare key is under the third pot.\n');
      for (const args of [
        ['ingest', ''],
        ['forget', '--dry-run', ''],
      ]) {
        const r = runCli(home, ['--offline', '--native', impl, ...args]);
        expect(r.code, args.join(' ')).toBe(1);
        expectOneLineError(r.stderr, 'INVALID_INPUT');
        expect(r.stderr).toContain('an empty path names no file (give . for the current folder)');
      }
    });
  },
);

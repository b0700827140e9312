import { describe, expect, it } from 'vitest';
import { runCli, tempHomes } from './testing/cli.js';

// `aios health` for people: every check says something, and no line ends in blanks.

const tempHome = tempHomes('aios-health-print-');

describe('aios health, printed', () => {
  it('a check that passes without a word shows what it measured', () => {
    const r = runCli(tempHome(), ['--offline', 'health']);
    expect(r.stdout).toMatch(/^ {2}database:writable +pass {2}\d+(\.\d+)? ms$/m);
    expect(r.stdout).not.toMatch(/ $/m);
  });
});

import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The package as npm installs it: the thread that reads PDFs starts from a file of its own
// (`dist/pdf-worker.js`), which the package must ship beside the bundles that start it.
describe('the @aios/core package', () => {
  it('ships the PDF thread file beside its bundles', () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '..');
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: dir,
        encoding: 'utf8',
      }),
    ) as [{ files: { path: string }[] }];
    const files = pack.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/pdf-worker.js']));
    expect(files).not.toContain('dist/pdf-worker.cjs');
  });
});

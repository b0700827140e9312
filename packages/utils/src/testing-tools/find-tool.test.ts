import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTool, testTool } from './find-tool.js';

describe('findTool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aios-tools-'));
  const tool = join(dir, 'aios-fake-tool');
  writeFileSync(tool, '#!/bin/sh\n');
  chmodSync(tool, 0o755);
  writeFileSync(join(dir, 'not-executable'), '');

  it('finds an executable on the PATH and the venv, not a plain file', () => {
    expect(findTool('aios-fake-tool', { PATH: dir })).toBe(tool);
    expect(findTool('aios-fake-tool', { PATH: '', AIOS_TOOLS_VENV: join(dir, '..') })).toBeNull();
    expect(findTool('not-executable', { PATH: dir })).toBeNull();
  });

  it('testTool throws for a missing tool only when tools are required', () => {
    expect(testTool('aios-missing-tool', { PATH: dir })).toBeNull();
    expect(() => testTool('aios-missing-tool', { PATH: dir, AIOS_REQUIRE_TOOLS: '1' })).toThrow(
      /aios-missing-tool is required/,
    );
  });
});

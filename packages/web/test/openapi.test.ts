import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { committed, generate } from '../scripts/openapi.js';

const SRC = join(import.meta.dirname, '..', 'src');

const HOW =
  'regenerate with `pnpm --filter @aios/web generate:api` (after building @aios/enterprise)';

describe("the API client's OpenAPI document", () => {
  it("is the server's, from its route schemas, and the generated types are up to date", async () => {
    const fresh = await generate();
    const saved = committed();
    expect(saved.openapi === fresh.openapi, `src/api/openapi.json is stale: ${HOW}`).toBe(true);
    expect(saved.schema === fresh.schema, `src/api/schema.gen.ts is stale: ${HOW}`).toBe(true);
    expect(saved.maxLength === fresh.maxLength, `src/api/max-length.gen.ts is stale: ${HOW}`).toBe(
      true,
    );
    expect(saved.pattern === fresh.pattern, `src/api/pattern.gen.ts is stale: ${HOW}`).toBe(true);
  });

  it('gives the forms their length limits: none states a number of its own', () => {
    const stated = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.tsx'))
      .flatMap((file) =>
        [...readFileSync(join(SRC, file), 'utf8').matchAll(/maxLength=\{\s*[\d_]+\s*\}/g)].map(
          (m) => `${file}: ${m[0]}`,
        ),
      );
    expect(stated, 'use MAX_LENGTH of src/api/max-length.gen.ts').toEqual([]);
  });

  it('gives the forms the patterns the server takes: none writes one of its own', () => {
    const written = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.tsx'))
      .flatMap((file) =>
        [...readFileSync(join(SRC, file), 'utf8').matchAll(/pattern=(?:"|\{\s*['"`])/g)].map(
          (m) => `${file}: ${m[0]}`,
        ),
      );
    expect(written, 'use inputPattern(PATTERN[...]) of src/api/pattern.gen.ts').toEqual([]);
  });
});

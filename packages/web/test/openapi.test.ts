import { describe, expect, it } from 'vitest';
import { committed, generate } from '../scripts/openapi.js';

const HOW =
  'regenerate with `pnpm --filter @aios/web generate:api` (after building @aios/enterprise)';

describe("the API client's OpenAPI document", () => {
  it("is the server's, from its route schemas, and the generated types are up to date", async () => {
    const fresh = await generate();
    const saved = committed();
    expect(saved.openapi === fresh.openapi, `src/api/openapi.json is stale: ${HOW}`).toBe(true);
    expect(saved.schema === fresh.schema, `src/api/schema.gen.ts is stale: ${HOW}`).toBe(true);
  });
});

/**
 * Writes src/api/openapi.json, src/api/schema.gen.ts, src/api/max-length.gen.ts and
 * src/api/pattern.gen.ts from the server's route schemas.
 */
import { writeFileSync } from 'node:fs';
import { generate, MAX_LENGTH_FILE, OPENAPI_FILE, PATTERN_FILE, SCHEMA_FILE } from './openapi.js';

const { openapi, schema, maxLength, pattern } = await generate();
for (const [file, text] of [
  [OPENAPI_FILE, openapi],
  [SCHEMA_FILE, schema],
  [MAX_LENGTH_FILE, maxLength],
  [PATTERN_FILE, pattern],
] as const) {
  writeFileSync(file, text);
  process.stdout.write(`wrote ${file}\n`);
}

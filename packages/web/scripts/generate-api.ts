/**
 * Writes src/api/openapi.json, src/api/schema.gen.ts and src/api/max-length.gen.ts from the
 * server's route schemas.
 */
import { writeFileSync } from 'node:fs';
import { generate, MAX_LENGTH_FILE, OPENAPI_FILE, SCHEMA_FILE } from './openapi.js';

const { openapi, schema, maxLength } = await generate();
for (const [file, text] of [
  [OPENAPI_FILE, openapi],
  [SCHEMA_FILE, schema],
  [MAX_LENGTH_FILE, maxLength],
] as const) {
  writeFileSync(file, text);
  process.stdout.write(`wrote ${file}\n`);
}

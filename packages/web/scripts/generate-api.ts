/** Writes src/api/openapi.json and src/api/schema.gen.ts from the server's route schemas. */
import { writeFileSync } from 'node:fs';
import { generate, OPENAPI_FILE, SCHEMA_FILE } from './openapi.js';

const { openapi, schema } = await generate();
writeFileSync(OPENAPI_FILE, openapi);
writeFileSync(SCHEMA_FILE, schema);
process.stdout.write(`wrote ${OPENAPI_FILE}\nwrote ${SCHEMA_FILE}\n`);

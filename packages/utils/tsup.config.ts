import { aiosPackage } from '../../tsup.preset.mjs';

// zod goes into the bundle: as its own package it is ~100 modules, which Node's ESM loader
// resolves and links one by one on every start of the CLI (70-170 ms; one module: 30-60).
export default aiosPackage(['src/index.ts', 'src/testing.ts'], { noExternal: ['zod'] });

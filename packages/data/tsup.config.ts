import { aiosPackage } from '../../tsup.preset.mjs';

// Migrations are imported from crates/data/migrations as text and bundled.
export default aiosPackage(['src/index.ts'], { loader: { '.sql': 'text' } });

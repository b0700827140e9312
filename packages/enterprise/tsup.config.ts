import { aiosPackage } from '../../tsup.preset.mjs';

export default aiosPackage(['src/index.ts']);

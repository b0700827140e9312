import { aiosPackage } from '../../tsup.preset.mjs';

export default aiosPackage(['src/index.ts', 'src/cli.ts'], { dts: { entry: 'src/index.ts' } });

import { aiosPackage } from '../../tsup.preset.mjs';

// `cli` only turns on Node's compile cache and loads `cli-main`, the command itself.
export default aiosPackage(['src/index.ts', 'src/cli.ts', 'src/cli-main.ts'], {
  dts: { entry: 'src/index.ts' },
});

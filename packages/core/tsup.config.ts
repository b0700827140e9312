import { aiosPackage } from '../../tsup.preset.mjs';

// `cli` only turns on Node's compile cache and loads `cli-main`, the command itself (its
// CommonJS build: the one the package ships, see src/cli.ts).
export default aiosPackage(['src/index.ts', 'src/cli.ts', 'src/cli-main.ts'], {
  dts: { entry: 'src/index.ts' },
});

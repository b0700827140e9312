import { aiosPackage } from '../../tsup.preset.mjs';

// `cli` only turns on Node's compile cache and loads `cli-main`, the command itself (its
// CommonJS build: the one the package ships, see src/cli.ts). `pdf-worker` is the code of
// the thread that reads PDFs, a file of its own that the thread is started from (see
// src/ingest/pdf-worker-file.ts).
export default aiosPackage(
  {
    index: 'src/index.ts',
    cli: 'src/cli.ts',
    'cli-main': 'src/cli-main.ts',
    'pdf-worker': 'src/ingest/pdf-worker.ts',
  },
  { dts: { entry: 'src/index.ts' } },
);

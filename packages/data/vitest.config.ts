import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.mjs';

// Migrations are imported from crates/data/migrations as text, as the build does.
export default mergeConfig(
  shared,
  defineConfig({
    // A suite's first PostgreSQL store starts the file's server (initdb, start, a
    // migrated template): seconds on a loaded machine, in a beforeAll.
    test: { hookTimeout: 60_000 },
    plugins: [
      {
        name: 'sql-as-text',
        transform(code, id) {
          return id.endsWith('.sql')
            ? { code: `export default ${JSON.stringify(code)};`, map: null }
            : null;
        },
      },
    ],
  }),
);

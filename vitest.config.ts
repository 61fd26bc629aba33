import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{shared,server,skills,desktop}/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // Integration and end-to-end tests talk to real PostgreSQL, Redis and child processes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/report.json' },
  },
});

import { defineConfig } from 'vitest/config';

/**
 * Two projects. `unit`: pure modules (domain rules, parsers, catalogs), no servers, no store —
 * seconds, for the edit loop (`npm run test:unit`). `integration`: everything that starts
 * servers, databases, browsers or real clients; each file in its own process, so servers and
 * databases never leak between files. `npm test` runs both.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          pool: 'threads',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', '**/node_modules/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
    ],
  },
});

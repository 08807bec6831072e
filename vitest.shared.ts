import { defineConfig } from 'vitest/config';

/**
 * Every package's tests: source imports (the "source" export condition), and a JSON report that
 * scripts/test-summary.mjs adds up into the one closing line of `npm test`.
 */
export default defineConfig({
  resolve: { conditions: ['source'] },
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/report.json' },
    testTimeout: 20_000,
    hookTimeout: 120_000,
  },
});

import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * Every package's tests: workspace packages are imported from source (their "source" export
 * condition), never from dist, and a JSON report that scripts/test-summary.mjs adds up into the
 * one closing line of `npm test`.
 */
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions] } },
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/report.json' },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

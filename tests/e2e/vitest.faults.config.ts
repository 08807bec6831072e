import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

/**
 * `npm run test:faults`: the fault tests of src/faults/, which kill, stop and poison real processes
 * and services. One file at a time: each runs a whole pipeline, some a private broker or database,
 * and together they would starve a small machine into timeouts that prove nothing.
 */
export default mergeConfig(shared, defineConfig({
  test: {
    include: ['src/faults/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 180_000,
    outputFile: { json: '.vitest/faults-report.json' },
  },
}));

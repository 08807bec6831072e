import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

/** packaging/test.sh: the standalone executable that `npm run package` built, against the real stack (src/package/). */
export default mergeConfig(shared, defineConfig({
  test: {
    include: ['src/package/**/*.test.ts'],
    outputFile: { json: '.vitest/package-report.json' },
  },
}));

import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

/**
 * `npm test`: every test here but the slow fault tests of src/faults/, which `npm run test:faults` runs
 * (vitest.faults.config.ts), and those of the packaged agent in src/package/, which packaging/test.sh runs
 * after `npm run package` (vitest.package.config.ts).
 */
export default mergeConfig(shared, defineConfig({
  test: { exclude: [...configDefaults.exclude, 'src/faults/**', 'src/package/**'] },
}));

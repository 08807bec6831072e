import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.js';

/**
 * One file at a time: each file migrates scratch databases and creates roles, and PostgreSQL's
 * shared catalogs (roles, their grants) race between databases of one server. migrate() applies its
 * files again when that race rolls one back; a test's own CREATE ROLE or GRANT would not.
 */
export default mergeConfig(shared, defineConfig({ test: { fileParallelism: false } }));

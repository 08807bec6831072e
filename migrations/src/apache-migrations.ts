import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS_DIR } from './migrate.js';

/**
 * A copy of the migrations in which every edition check answers 'apache', so a test runs the
 * Apache edition's branches on any server. The caller removes the directory.
 */
export function apacheMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gpu-apache-migrations-'));
  for (const file of readdirSync(MIGRATIONS_DIR)) {
    writeFileSync(join(dir, file), readFileSync(join(MIGRATIONS_DIR, file), 'utf8').replaceAll(`current_setting('timescaledb.license')`, `'apache'::text`));
  }
  return `${dir}/`;
}

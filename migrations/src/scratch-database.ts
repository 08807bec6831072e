import { randomBytes } from 'node:crypto';
import { loadConfig } from '@gpumon/runtime/config';
import { databaseOptions, withClient, type DatabaseSettings } from '@gpumon/runtime/database';

export interface ScratchDatabase {
  name: string;
  settings: DatabaseSettings;
  /** The settings of another login on the same database. */
  as(user: string, password: string): DatabaseSettings;
  create(): Promise<void>;
  drop(): Promise<void>;
}

/**
 * A database of a test's or benchmark's own, next to the configured one, for migrating from zero.
 * It inherits TimescaleDB from template1, where the stack (like the timescaledb image) installs it.
 */
export function scratchDatabase(kind: 'test' | 'bench' = 'test'): ScratchDatabase {
  const main = loadConfig(databaseOptions);
  const name = `gpu_${kind}_${randomBytes(4).toString('hex')}`;
  const on = (user?: string, password?: string): DatabaseSettings => {
    const url = new URL(main.databaseUrl);
    url.pathname = `/${name}`;
    if (user !== undefined) url.username = user;
    if (password !== undefined) url.password = password;
    return { ...main, databaseUrl: url.toString() };
  };
  return {
    name,
    settings: on(),
    as: on,
    create: () => withClient(main, (c) => c.query(`CREATE DATABASE ${name}`)).then(() => undefined),
    drop: () => withClient(main, async (c) => {
      // FORCE may end only this login's sessions: give those of other roles (gpu_sink, ...) whose
      // process just stopped the moment their server backends take to exit.
      for (let waited = 0; waited < 10_000; waited += 100) {
        const others = await c.query('SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND usename <> current_user', [name]);
        if (others.rowCount === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }),
  };
}

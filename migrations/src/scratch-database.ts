import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '@gpumon/runtime/config';
import { clientConfig, databaseOptions, type DatabaseSettings } from '@gpumon/runtime/database';

export interface ScratchDatabase {
  name: string;
  settings: DatabaseSettings;
  /** The settings of another login on the same database. */
  as(user: string, password: string): DatabaseSettings;
  create(): Promise<void>;
  drop(): Promise<void>;
}

export async function withClient<T>(settings: DatabaseSettings, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(clientConfig(settings));
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A database of a test file's own, next to the configured one, for migrating from zero. It inherits
 * TimescaleDB from template1, where the stack (like the timescaledb image) installs it.
 */
export function scratchDatabase(): ScratchDatabase {
  const main = loadConfig(databaseOptions);
  const name = `gpu_test_${randomBytes(4).toString('hex')}`;
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
    drop: () => withClient(main, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

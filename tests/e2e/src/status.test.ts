import { expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { databaseOptions, withClient } from '@gpumon/runtime/database';
import { startCli } from './cli-process.js';

it('gpumon status names the database’s TimescaleDB version and edition, as the server reports them', async () => {
  const { license, version } = await withClient(loadConfig(databaseOptions), async (c) => (await c.query(
    `SELECT current_setting('timescaledb.license') AS license, (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS version`)).rows[0]);
  const cli = startCli(['status'], {});
  expect(await cli.exited, cli.output()).toBe(0);
  const edition = license === 'apache' ? 'apache' : 'community';
  expect(cli.output().trim().split('\n').at(-1)).toBe(`TimescaleDB ${version} (${edition} edition)`);
});

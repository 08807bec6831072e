import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { databaseOptions, withClient } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { provisionTopics, startCli } from './cli-process.js';

/** Topics of its own: `gpumon status` reads them, and a fresh stack has none until `gpumon topics`. */
const env = { GPUMON_TOPIC_PREFIX: `e2e-status-${randomBytes(3).toString('hex')}.` };

beforeAll(() => provisionTopics(env));
afterAll(() => removeTopics(createKafka(loadConfig(kafkaOptions), 'e2e-status'), createRegistryClient(loadConfig(registryOptions)), env.GPUMON_TOPIC_PREFIX));

it('gpumon status names the database’s TimescaleDB version and edition, as the server reports them, then the chunks being written', async () => {
  const { license, version } = await withClient(loadConfig(databaseOptions), async (c) => (await c.query(
    `SELECT current_setting('timescaledb.license') AS license, (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS version`)).rows[0]);
  const cli = startCli(['status'], env);
  expect(await cli.exited, cli.output()).toBe(0);
  const edition = license === 'apache' ? 'apache' : 'community';
  const lines = cli.output().trim().split('\n');
  expect(lines.at(-2)).toBe(`TimescaleDB ${version} (${edition} edition)`);
  // What the database holds depends on what ran before on this stack: either wording, read from it.
  expect(lines.at(-1)).toMatch(/^chunks being written: (none written for a minute yet|[\d.]+ [MG]B when whole at this rate \(gpu_\w+ [\d.]+ [MG]B of \d+ (d|h|min)(, gpu_\w+ [\d.]+ [MG]B of \d+ (d|h|min))*\), (within|more than) shared_buffers [\d.]+ [MG]B)/);
});

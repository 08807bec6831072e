import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { databaseOptions, withClient } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { topicName } from '@gpumon/schemas/topics';
import { eventually, startCli, startCliServing } from './cli-process.js';

/**
 * `gpumon sink` while its database is read-only for 20 s (`default_transaction_read_only`), on a
 * scratch database of the shared PostgreSQL: no row is dead-lettered, the sink says it is paused
 * (gpumon_paused, /healthz, one log line) and, once the database is writable again, finds that out
 * by itself and writes every row exactly once.
 */
const run = randomBytes(3).toString('hex');
const prefix = `e2e-pause-${run}.`;
const main = loadConfig(databaseOptions);
const scratch = `gpu_test_pause_${run}`;
const url = Object.assign(new URL(main.databaseUrl), { pathname: `/${scratch}` }).toString();
const kafka = createKafka(loadConfig(kafkaOptions), 'e2e-pause');
const registry = createRegistryClient(loadConfig(registryOptions));
const env = { GPUMON_TOPIC_PREFIX: prefix, DATABASE_URL: url };
const READ_ONLY_MS = 20_000;

const onMain = (sql: string): Promise<unknown> => withClient(main, (c) => c.query(sql));
const count = (): Promise<[number, number]> => withClient({ ...main, databaseUrl: url }, async (c) => {
  const result = await c.query('SELECT count(*) AS n, count(DISTINCT (gpu_uuid, time)) AS d FROM gpu_samples');
  return [Number(result.rows[0].n), Number(result.rows[0].d)];
});
const records = async (topic: string): Promise<number> => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, o) => sum + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
};

beforeAll(async () => {
  await onMain(`CREATE DATABASE ${scratch}`);
  const migrate = startCli(['migrate'], env);
  expect(await migrate.exited, migrate.output()).toBe(0);
  const topics = startCli(['topics'], env);
  expect(await topics.exited, topics.output()).toBe(0);
});

afterAll(async () => {
  await onMain(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
  await removeTopics(kafka, registry, prefix, ['samples', 'dlq']);
});

describe('gpumon sink on a database made read-only for a while', () => {
  it('pauses instead of dead-lettering, says so once, and writes every row once after', { timeout: 240_000 }, async () => {
    const { cli: sink, port: metricsPort } = await startCliServing(['sink', '--streams', 'samples', '--group', `e2e-pause-${run}`, '--batch-wait', '100ms'], env);
    const simulate = startCli(['simulate', '--hosts', '2', '--gpus-per-host', '8', '--interval', '250ms', '--ticks', '160', '--host-prefix', `e2e-pause-${run}`], env);
    const endpoint = async (path: string): Promise<[number, string]> => {
      const response = await fetch(`http://localhost:${metricsPort}${path}`);
      return [response.status, await response.text()];
    };
    const paused = async (): Promise<string | undefined> =>
      /gpumon_paused\{component="sink-timescaledb",reason="database_read_only"\} (\d+)/.exec((await endpoint('/metrics'))[1])?.[1];
    try {
      await eventually('rows arriving', async () => ((await count())[0] > 0 ? true : undefined), 60_000, sink.output);
      await onMain(`ALTER DATABASE ${scratch} SET default_transaction_read_only = on`);
      const since = Date.now();
      // The setting reaches new sessions only: end the sink's, as a switch-over to a read-only server would.
      await onMain(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${scratch}' AND application_name = 'gpumon' AND pid <> pg_backend_pid()`);
      await eventually('the sink paused on the read-only database', async () => ((await paused()) === '1' ? true : undefined), 30_000, sink.output);
      const [status, body] = await endpoint('/healthz');
      expect(status).toBe(503);
      expect(body).toMatch(/^paused for \d+ s: .*database_read_only \(gpu_samples: SQLSTATE 25006/);
      expect((await endpoint('/readyz'))[0]).toBe(503);
      expect((await endpoint('/livez'))[0], 'alive while paused: a liveness probe restarts nothing').toBe(200);
      await sleep(Math.max(0, since + READ_ONLY_MS - Date.now()));
      // No session is ended this time: the sink must find the database writable again by itself.
      await onMain(`ALTER DATABASE ${scratch} RESET default_transaction_read_only`);

      expect(await simulate.exited, simulate.output()).toBe(0);
      const produced = await records(topicName('samples', prefix));
      expect(produced).toBe(2560);
      await eventually('every produced record in the table', async () => ((await count())[0] >= produced ? true : undefined), 90_000, sink.output);
      await sleep(1000);
      expect(await count()).toEqual([produced, produced]);
      expect(await records(topicName('dlq', prefix))).toBe(0);
      expect(await paused()).toBe('0');
      expect((await endpoint('/healthz'))[0]).toBe(200);
      expect((await endpoint('/readyz'))[0]).toBe(200);
      const lines = sink.output().split('\n');
      expect(lines.filter((l) => /\(paused\).*reason=database_read_only/.test(l)), sink.output()).toHaveLength(1);
      expect(lines.filter((l) => /resumed after \d+\.\d s/.test(l)), sink.output()).toHaveLength(1);
    } finally {
      await simulate.stop();
      expect(await sink.stop(), sink.output()).toBe(0);
    }
  });
});

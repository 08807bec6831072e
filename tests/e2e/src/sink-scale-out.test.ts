import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { eventually, metricValue, provisionTopics, startCli, startCliServing, type CliProcess } from './cli-process.js';
import { ofHosts } from './records.js';

/**
 * Two `gpumon sink` instances in one consumer group write the same topic; one is killed (SIGKILL)
 * with writes in flight while samples keep arriving: every sample has exactly one row, none is
 * missing, and the survivor took over.
 */
const run = randomBytes(3).toString('hex');
const prefix = `e2e-sinkscale-${run}.`;
const hostPrefix = `e2e-sinkscale-${run}`;
const env = { GPUMON_TOPIC_PREFIX: prefix };
const pool = createPool(loadConfig(databaseOptions));
const processes: CliProcess[] = [];
const GPUS = 64;
const TICKS = 60;

const written = (port: number): Promise<number> => metricValue(port, 'gpumon_records_sent_total{component="sink-timescaledb"}');

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  for (const table of ['gpu_samples', 'gpu_device_configs', 'gpu_devices']) await pool.query(`DELETE FROM ${table} WHERE ${ofHosts(table, 'LIKE $1')}`, [`${hostPrefix}-%`]);
  await pool.end();
  await removeTopics(createKafka(loadConfig(kafkaOptions, { topicPrefix: prefix }), 'e2e-sinkscale'), createRegistryClient(loadConfig(registryOptions)), prefix);
});

describe('two sink instances', () => {
  it('share the partitions and, when one is killed mid-write, leave every sample exactly one row', { timeout: 180_000 }, async () => {
    await provisionTopics(env);
    const instance = async (): Promise<{ cli: CliProcess; port: number }> => {
      const serving = await startCliServing(['sink', '--streams', 'samples', '--group', `e2e-sinkscale-${run}`, '--session-timeout', '6s', '--batch-wait', '200ms'], env);
      processes.push(serving.cli);
      return serving;
    };
    const { cli: a, port: portA } = await instance();
    const { cli: b, port: portB } = await instance();
    // 64 GPUs × 60 ticks at 160 samples/s, from yesterday (inside retention): about 25 s of samples arriving while the group changes.
    const start = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000).toISOString();
    const simulate = startCli([
      'simulate', '--clock', 'simulated', '--start', start, '--hosts', '8', '--gpus-per-host', '8',
      '--ticks', String(TICKS), '--rate', '160', '--host-prefix', hostPrefix,
    ], env);
    processes.push(simulate);
    const logs = (): string => `instance A:\n${a.output()}\ninstance B:\n${b.output()}`;
    await eventually('both instances writing', async () => ((await written(portA)) > 0 && (await written(portB)) > 0 ? true : undefined), 60_000, logs);
    a.child.kill('SIGKILL');
    const bBefore = await written(portB);
    expect(await simulate.exited, simulate.output()).toBe(0);

    const counts = async (): Promise<{ rows: number; distinct: number }> => {
      const { rows } = await pool.query(
        `SELECT count(*)::int AS rows, count(DISTINCT (gpu_uuid, time))::int AS distinct FROM gpu_samples WHERE gpu_uuid IN (SELECT gpu_uuid FROM gpu_devices WHERE hostname LIKE $1)`, [`${hostPrefix}-%`]);
      return rows[0];
    };
    await eventually('every sample written', async () => ((await counts()).rows >= GPUS * TICKS ? true : undefined), 90_000, logs);
    expect(await counts()).toEqual({ rows: GPUS * TICKS, distinct: GPUS * TICKS });
    const devices = await pool.query('SELECT count(*)::int AS n FROM gpu_devices WHERE hostname LIKE $1', [`${hostPrefix}-%`]);
    expect(devices.rows[0].n).toBe(GPUS);
    expect(await written(portB)).toBeGreaterThan(bBefore);
    expect(await a.exited).toBeNull();
    expect(await b.stop(), b.output()).toBe(0);
  });
});

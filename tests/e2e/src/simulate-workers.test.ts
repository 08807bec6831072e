import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { startCli } from './cli-process.js';
import { readRecords } from './read-topic.js';

/**
 * `gpumon simulate` with one worker thread and with four, each run into its own topics: every GPU
 * gets the same records in the same order. 3 hosts × 3 GPUs over four workers puts slice
 * boundaries inside hosts; faults are frequent so that some GPUs go through one.
 */
const run = randomBytes(3).toString('hex');
const registry = createRegistryClient(loadConfig(registryOptions));
const fleet = { seed: 11, hosts: 3, gpusPerHost: 3, hostPrefix: `e2e-workers-${run}`, faultRateScale: 3000 };
const TICKS = 5;
const prefixes: string[] = [];

afterAll(async () => {
  for (const prefix of prefixes) await removeTopics(createKafka(loadConfig(kafkaOptions, { topicPrefix: prefix }), 'e2e-workers'), registry, prefix);
});

/** The run's records, per GPU in the order the topic holds them. */
async function simulate(workers: number): Promise<Map<string, GpuSample[]>> {
  const prefix = `e2e-workers-${run}-w${workers}.`;
  prefixes.push(prefix);
  const env = { GPUMON_TOPIC_PREFIX: prefix };
  const topics = startCli(['topics'], env);
  expect(await topics.exited, topics.output()).toBe(0);
  const cli = startCli([
    'simulate', '--clock', 'simulated', '--start', '2026-12-01T00:00:00Z', '--ticks', String(TICKS), '--interval', '1h',
    '--hosts', String(fleet.hosts), '--gpus-per-host', String(fleet.gpusPerHost), '--seed', String(fleet.seed),
    '--host-prefix', fleet.hostPrefix, '--fault-rate-scale', String(fleet.faultRateScale), '--workers', String(workers),
  ], env);
  expect(await cli.exited, cli.output()).toBe(0);
  expect(cli.output()).toContain(`workers=${workers}`);
  const kafka = createKafka(loadConfig(kafkaOptions, { topicPrefix: prefix }), 'e2e-workers');
  const samples = await readRecords<GpuSample>(kafka, new TopicCodec(registry, 'samples', prefix), `${prefix}reader`, fleet.hosts * fleet.gpusPerHost * TICKS);
  const byGpu = new Map<string, GpuSample[]>();
  for (const sample of samples) byGpu.set(sample.gpu_uuid, [...(byGpu.get(sample.gpu_uuid) ?? []), sample]);
  return byGpu;
}

describe('gpumon simulate over worker threads', () => {
  it('sends every GPU the same records in the same order with one worker and with four', async () => {
    const one = await simulate(1);
    const four = await simulate(4);
    const uuids = new SimulatedFleet(fleet).gpus.map((gpu) => gpu.uuid).sort();
    expect([...one.keys()].sort()).toEqual(uuids);
    for (const [uuid, samples] of one) {
      expect(samples.map((s) => s.time), uuid).toEqual(Array.from({ length: TICKS }, (_, k) => Date.parse('2026-12-01T00:00:00Z') + k * 3_600_000));
    }
    expect(Object.fromEntries(four)).toEqual(Object.fromEntries(one));
    // The fault rate makes some GPU go through a fault: the slices carry fault state, not only healthy readings.
    expect([...one.values()].flat().some((s) => s.simulated_fault !== null)).toBe(true);
  }, 120_000);
});

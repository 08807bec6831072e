import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { loadScenario } from '@gpumon/simulator/scenario';
import { startCli } from './cli-process.js';
import { readRecords } from './read-topic.js';

/**
 * `gpumon simulate` with one worker thread and with four, each run into its own topics: every GPU
 * gets the same records in the same order. 3 hosts × 8 GPUs over four workers puts slice
 * boundaries inside hosts; the scenario puts a fault of each kind on hosts 1 and 2 within the run.
 */
const run = randomBytes(3).toString('hex');
const registry = createRegistryClient(loadConfig(registryOptions));
const SCENARIO = fileURLToPath(new URL('../../../producers/simulator/scenarios/every-fault.yaml', import.meta.url));
const fleet = { seed: 11, hosts: 3, gpusPerHost: 8, hostPrefix: `e2e-workers-${run}` };
const TICKS = 10;
const INTERVAL_MS = 30 * 60_000;
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
    'simulate', '--clock', 'simulated', '--start', '2026-12-01T00:00:00Z', '--ticks', String(TICKS), '--interval', `${INTERVAL_MS}ms`,
    '--hosts', String(fleet.hosts), '--gpus-per-host', String(fleet.gpusPerHost), '--seed', String(fleet.seed),
    '--host-prefix', fleet.hostPrefix, '--scenario', SCENARIO, '--workers', String(workers),
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
    const uuids = new SimulatedFleet({ ...fleet, scenario: loadScenario(SCENARIO) }).gpus.map((gpu) => gpu.uuid).sort();
    expect([...one.keys()].sort()).toEqual(uuids);
    for (const [uuid, samples] of one) {
      expect(samples.map((s) => s.time), uuid).toEqual(Array.from({ length: TICKS }, (_, k) => Date.parse('2026-12-01T00:00:00Z') + k * INTERVAL_MS));
    }
    expect(Object.fromEntries(four)).toEqual(Object.fromEntries(one));
    // Faults begin and GPUs fail within the run: the slices carry fault state, not only healthy readings.
    const phases = new Set([...one.values()].flat().map((s) => s.simulated_fault?.phase));
    expect(phases).toEqual(new Set([undefined, 'PRECURSOR', 'FAILED']));
  }, 120_000);
});

import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { eventually, metricValue, provisionTopics, startCli, startCliServing, type CliProcess } from './cli-process.js';

/**
 * Two score-health instances in one consumer group share the partitions; one is killed (SIGKILL,
 * no goodbye) while samples keep arriving, and every sample still gets its verdict.
 */
const run = randomBytes(3).toString('hex');
const prefix = `e2e-scale-${run}.`;
const env = { GPUMON_TOPIC_PREFIX: prefix };
const kafka = createKafka(loadConfig(kafkaOptions, { topicPrefix: prefix }), 'e2e-scale');
const registry = createRegistryClient(loadConfig(registryOptions));
const processes: CliProcess[] = [];

const received = (port: number): Promise<number> => metricValue(port, 'gpumon_records_received_total{component="score-health"}');

async function keysOf(stream: 'samples' | 'health', until: (n: number) => boolean): Promise<Set<string>> {
  const codec = new TopicCodec(registry, stream, prefix);
  const consumer = kafka.consumer({ groupId: `e2e-scale-${run}-read-${stream}-${randomBytes(2).toString('hex')}` });
  const keys = new Set<string>();
  await consumer.connect();
  await consumer.subscribe({ topic: codec.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const record = await codec.decode(message.value);
      keys.add(`${record.gpu_uuid}@${record.time}`);
    },
  });
  await eventually(`${stream} read back`, async () => (until(keys.size) ? true : undefined), 60_000);
  await consumer.disconnect();
  return keys;
}

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await removeTopics(kafka, registry, prefix);
});

describe('scaling a processor out', () => {
  it('splits the partitions between two instances and loses nothing when one is killed', { timeout: 150_000 }, async () => {
    await provisionTopics(env);
    const instance = async (): Promise<{ cli: CliProcess; port: number }> => {
      const serving = await startCliServing(['process', 'score-health', '--group', `e2e-scale-${run}`, '--session-timeout', '6s'], env);
      processes.push(serving.cli);
      return serving;
    };
    const { cli: a, port: portA } = await instance();
    const { cli: b, port: portB } = await instance();
    // 64 GPUs × 60 ticks at 160 samples/s: about 25 s of samples arriving while the group changes.
    const simulate = startCli([
      'simulate', '--clock', 'simulated', '--start', '2026-02-01T00:00:00Z', '--hosts', '8', '--gpus-per-host', '8',
      '--ticks', '60', '--rate', '160', '--host-prefix', `e2e-scale-${run}`,
    ], env);
    processes.push(simulate);
    await eventually('both instances working', async () => ((await received(portA)) > 0 && (await received(portB)) > 0 ? true : undefined), 60_000,
      () => `instance A:\n${a.output()}\ninstance B:\n${b.output()}`);
    a.child.kill('SIGKILL');
    const bBefore = await received(portB);
    expect(await simulate.exited, simulate.output()).toBe(0);
    const inputs = await keysOf('samples', (n) => n >= 64 * 60);
    expect(inputs.size).toBe(64 * 60);
    const outputs = await keysOf('health', (n) => n >= inputs.size);
    expect([...inputs].filter((k) => !outputs.has(k))).toEqual([]);
    expect(await received(portB)).toBeGreaterThan(bBefore);
    expect(await a.exited).toBeNull();
    expect(await b.stop(), b.output()).toBe(0);
  });
});

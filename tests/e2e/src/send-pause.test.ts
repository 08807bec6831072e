import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { topicName } from '@gpumon/schemas/topics';
import type { GpuHealth } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { eventually, metricValue, provisionTopics, startCliServing, type CliProcess } from './cli-process.js';
import { readRecords } from './read-topic.js';

/**
 * A processor whose output topic an operator deleted, on the real broker: it pauses
 * (gpumon_paused reason kafka_unknown_topic, /healthz, one log line), dead-letters nothing, and
 * once the topic is back delivers every output and resumes by itself.
 */
const run = randomBytes(3).toString('hex');
const prefix = `e2e-send-pause-${run}.`;
const group = `e2e-send-pause-${run}`;
const kafka = createKafka(loadConfig(kafkaOptions, { topicPrefix: prefix }), 'e2e-send-pause');
const registry = createRegistryClient(loadConfig(registryOptions));
const samples = new SimulatedFleet({ seed: 11, hosts: 1, gpusPerHost: 4, hostPrefix: group }).sample(Date.now());
const health = topicName('health', prefix);
let processor: CliProcess;
let metricsPort: number;

beforeAll(async () => {
  await provisionTopics({ GPUMON_TOPIC_PREFIX: prefix });
  ({ cli: processor, port: metricsPort } = await startCliServing(['process', 'score-health', '--group', group], { GPUMON_TOPIC_PREFIX: prefix }));
  await eventually('the processor consuming', async () => (/consuming/.test(processor.output()) ? true : undefined), 60_000, processor.output);
});

afterAll(async () => {
  await processor?.stop();
  await removeTopics(kafka, registry, prefix);
});

describe('a processor whose output topic is gone', () => {
  it('pauses on it, dead-letters nothing, and delivers every output once the topic is back', { timeout: 120_000 }, async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [health] });
      await eventually('the topic gone', async () => (!(await admin.listTopics()).includes(health) ? true : undefined));
      const codec = new TopicCodec(registry, 'samples', prefix);
      await codec.lookup();
      const producer = kafka.producer({ createPartitioner: keyPartitioner });
      await producer.connect();
      await producer.send({ topic: codec.topic, acks: -1, messages: samples.map((s) => ({ key: s.gpu_uuid, value: codec.encode(s) })) });
      await producer.disconnect();

      const paused = (): Promise<number> => metricValue(metricsPort, 'gpumon_paused{component="score-health",reason="kafka_unknown_topic"}');
      await eventually('paused on the unknown topic', async () => ((await paused()) === 1 ? true : undefined), 60_000, processor.output);
      const healthz = await fetch(`http://localhost:${metricsPort}/healthz`);
      expect(healthz.status).toBe(503);
      expect(await healthz.text()).toMatch(/kafka_unknown_topic/);

      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: health, numPartitions: 1 }] });
      const outputs = await readRecords<GpuHealth>(kafka, new TopicCodec(registry, 'health', prefix), `${group}-health`, samples.length);
      expect(outputs.map((h) => h.gpu_uuid).sort()).toEqual(samples.map((s) => s.gpu_uuid).sort());
      await eventually('resumed', async () => ((await paused()) === 0 ? true : undefined), 30_000, processor.output);
      const dlq = await admin.fetchTopicOffsets(topicName('dlq', prefix));
      expect(dlq.reduce((n, o) => n + Number(o.high), 0)).toBe(0);
      const lines = processor.output().split('\n');
      expect(lines.filter((l) => /\(paused\).*reason=kafka_unknown_topic/.test(l)), processor.output()).toHaveLength(1);
      expect(lines.filter((l) => /resumed after/.test(l)), processor.output()).toHaveLength(1);
    } finally {
      await admin.disconnect();
    }
  });
});

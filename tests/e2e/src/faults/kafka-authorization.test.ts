import { randomBytes } from 'node:crypto';
import kafkajs, { type AclEntry } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { topicName } from '@gpumon/schemas/topics';
import type { GpuHealth, GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { eventually, provisionTopics, startCliServing, type CliProcess } from '../cli-process.js';
import { privateSecuredKafka } from '../private-stack.js';
import { readRecords } from '../read-topic.js';
import { expectedOutputs } from '../whole-pipeline.js';
import { stopAll } from './fault-run.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/**
 * A processor whose login may not read its group, then its topic, on a private broker with SASL
 * and ACLs; then its input topic deleted under it. Each time it stays up, pauses (gpumon_paused,
 * /readyz naming the group or topic and what the broker said, one log line) instead of exiting,
 * restarts its consumer with backoff, and once an admin grants the ACL or brings the topic back it
 * resumes by itself: every record handled once, its offsets committed, nothing dead-lettered.
 */
const run = randomBytes(3).toString('hex');
const prefix = `e2e-faults-authz-${run}.`;
const group = `e2e-faults-authz-${run}`;
const broker = await privateSecuredKafka(['admin', 'gpumon']);
const kafka = createKafka(loadConfig(kafkaOptions, {}, broker.login('admin')), 'e2e-faults-authz');
const registry = createRegistryClient(loadConfig(registryOptions));
const samplesTopic = topicName('samples', prefix);
const fleet = new SimulatedFleet({ seed: 5, hosts: 1, gpusPerHost: 4, hostPrefix: group });
const processes: CliProcess[] = [];

afterAll(async () => {
  const stuck = await stopAll(processes);
  await broker.remove();
  expect(stuck, 'stages that did not stop on SIGTERM').toEqual([]);
});

/** Lets the processor's login do `operation` on `name` (a literal resource, or every topic of the run's prefix). */
function allow(resourceType: AclEntry['resourceType'], name: string, operation: AclEntry['operation'], pattern: AclEntry['resourcePatternType'] = ResourcePatternTypes.LITERAL): AclEntry {
  return { resourceType, resourceName: name, resourcePatternType: pattern, principal: 'User:gpumon', host: '*', operation, permissionType: AclPermissionTypes.ALLOW };
}

describe('faults: Kafka authorisation and a missing topic under a consumer', () => {
  it('pauses on a missing READ of its group, of its topic, and on its topic deleted, and resumes by itself each time, losing and repeating nothing', async () => {
    await broker.up();
    const admin = kafka.admin();
    await admin.connect();
    try {
      await provisionTopics({ ...broker.login('admin'), GPUMON_TOPIC_PREFIX: prefix });
      // What a processor needs besides reading: to see its topics and write its outputs and dead letters.
      await admin.createAcls({ acl: [AclOperationTypes.DESCRIBE, AclOperationTypes.WRITE].map((op) => allow(AclResourceTypes.TOPIC, prefix, op, ResourcePatternTypes.PREFIXED)) });
      const codec = new TopicCodec(registry, 'samples', prefix);
      await codec.lookup();
      // A producer of its own each time: one that knew the deleted topic would send to its partitions, and its retry would repeat records.
      const send = async (samples: GpuSample[]): Promise<void> => {
        const producer = kafka.producer({ createPartitioner: keyPartitioner });
        await producer.connect();
        await producer.send({ topic: samplesTopic, acks: -1, messages: samples.map((s) => ({ key: s.gpu_uuid, value: codec.encode(s) })) });
        await producer.disconnect();
      };
      const first = [0, 1, 2].flatMap((k) => fleet.sample(Date.now() + k * 1000));
      await send(first);

      const { cli: processor, port: metricsPort } = await startCliServing(['process', 'score-health', '--group', group], { ...broker.login('gpumon'), GPUMON_TOPIC_PREFIX: prefix });
      processes.push(processor);
      const endpoint = async (path: string): Promise<[number, string]> => {
        const response = await fetch(`http://localhost:${metricsPort}${path}`).catch(() => undefined);
        return response === undefined ? [0, ''] : [response.status, await response.text()];
      };
      const paused = async (reason: string): Promise<string | undefined> =>
        new RegExp(`gpumon_paused\\{component="score-health",reason="${reason}"\\} (\\d)`).exec((await endpoint('/metrics'))[1])?.[1];
      /** /readyz while it answers 503 with a body matching `pattern`. */
      const unready = (what: string, pattern: RegExp): Promise<string> => eventually(what, async () => {
        expect(processor.child.exitCode, processor.output()).toBeNull();
        const [status, body] = await endpoint('/readyz');
        return status === 503 && pattern.test(body) ? body : undefined;
      }, 90_000, processor.output);

      const groupRefused = await unready('paused on the group it may not read', new RegExp(`kafka_authorization \\(consuming ${samplesTopic} in group ${group}: .*GROUP_AUTHORIZATION_FAILED`));
      expect(await paused('kafka_authorization')).toBe('1');
      console.log(`faults/kafka-authorization /readyz without READ on the group: ${groupRefused}`);
      expect((await endpoint('/livez'))[0], 'alive while paused: a liveness probe restarts nothing').toBe(200);

      await admin.createAcls({ acl: [allow(AclResourceTypes.GROUP, group, AclOperationTypes.READ)] });
      const topicRefused = await unready('paused on the topic it may not read', new RegExp(`kafka_authorization \\(consuming ${samplesTopic} in group ${group}: TOPIC_AUTHORIZATION_FAILED`));
      console.log(`faults/kafka-authorization /readyz without READ on the topic: ${topicRefused}`);
      expect(await paused('kafka_authorization')).toBe('1');

      const granted = Date.now();
      await admin.createAcls({ acl: [allow(AclResourceTypes.TOPIC, samplesTopic, AclOperationTypes.READ)] });
      const health = new TopicCodec(registry, 'health', prefix);
      const committed = async (): Promise<number> => {
        const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [samplesTopic] });
        return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      };
      await eventually('every record committed', async () => ((await committed()) === first.length ? true : undefined), 60_000, processor.output);
      console.log(`faults/kafka-authorization: resumed and committed ${first.length} records ${((Date.now() - granted) / 1000).toFixed(1)} s after the grant`);
      expect(await paused('kafka_authorization')).toBe('0');
      expect((await endpoint('/readyz'))[0]).toBe(200);

      // Gone, then back empty: the consumer waits for it, then takes what is written to it.
      await admin.deleteTopics({ topics: [samplesTopic] });
      await unready('paused on the deleted topic', new RegExp(`kafka_unknown_topic \\(consuming ${samplesTopic} in group ${group}: UNKNOWN_TOPIC_OR_PARTITION`));
      expect(await paused('kafka_unknown_topic')).toBe('1');
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: samplesTopic, numPartitions: 2 }] });
      await eventually('resumed on the topic back', async () => ((await paused('kafka_unknown_topic')) === '0' ? true : undefined), 60_000, processor.output);
      const second = [3, 4].flatMap((k) => fleet.sample(Date.now() + k * 1000));
      await send(second);
      await eventually('the records on the new topic committed', async () => ((await committed()) === second.length ? true : undefined), 60_000, processor.output);

      const samples = [...first, ...second];
      const byKey = (h: GpuHealth): string => `${h.gpu_uuid} ${h.time}`;
      const expected = ((await expectedOutputs(samples)).get('health') as GpuHealth[]).map(byKey).sort();
      const outputs = await readRecords<GpuHealth>(kafka, health, `${group}-health-reader`, expected.length);
      expect(outputs.map(byKey).sort(), 'each record handled once, as a run without the faults would').toEqual(expected);
      const written = (await admin.fetchTopicOffsets(health.topic)).reduce((n, o) => n + Number(o.high), 0);
      expect(written, 'no output written twice').toBe(expected.length);
      const dlq = await admin.fetchTopicOffsets(topicName('dlq', prefix));
      expect(dlq.reduce((n, o) => n + Number(o.high), 0), 'nothing dead-lettered').toBe(0);

      const lines = processor.output().split('\n');
      expect(lines.filter((l) => /\(paused\)/.test(l)), 'one line per pause: the group, then the deleted topic').toHaveLength(2);
      expect(lines.filter((l) => /resumed after/.test(l)), processor.output()).toHaveLength(2);
      expect(processor.child.exitCode).toBeNull();
    } finally {
      await admin.disconnect();
    }
  });
});

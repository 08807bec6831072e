import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { connectProducer } from '@gpumon/nvidia-smi/agent';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { privateKafkaCluster, type PrivateKafkaCluster } from '../private-stack.js';

/**
 * The agent's producer makes one attempt per send; its spool sender retries the whole segment.
 * kafkajs's own retry resends only to some brokers, so after a leader move records it reported as
 * sent were not (runtime/src/kafka.ts createProducer), and the spool then deleted them. Here a
 * follower of a three-node cluster is killed under a topic that needs every replica in sync: each
 * acks=all produce fails with a retriable error, and the broker must see exactly one Produce request.
 */
const run = randomBytes(3).toString('hex');
const topic = `e2e-agent-producer-${run}`;
let cluster: PrivateKafkaCluster | undefined;

afterAll(async () => {
  await cluster?.remove();
});

describe('the agent\'s producer, on a three-node cluster', () => {
  it('makes one attempt per send: a send the brokers refuse is not resent behind the spool sender\'s back', async () => {
    cluster = await privateKafkaCluster();
    await cluster.up();
    const settings = loadConfig(kafkaOptions, { kafkaBrokers: cluster.brokers, topicPartitions: '1', topicReplicationFactor: '3' });
    const admin = createKafka(settings, 'e2e-agent-producer').admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '3' }] }],
      });
      const producer = await connectProducer(settings, topic);
      let produceRequests = 0;
      producer.on(producer.events.REQUEST, ({ payload }) => {
        if (payload.apiName === 'Produce') produceRequests++;
      });
      try {
        await producer.send({ topic, acks: -1, messages: [{ key: 'GPU-1', value: 'all replicas up' }] });
        expect(produceRequests).toBe(1);
        const { topics: [metadata] } = await admin.fetchTopicMetadata({ topics: [topic] });
        const leader = metadata!.partitions[0]!.leader;
        await cluster.kill([1, 2, 3].find((node) => node !== leader)!);
        await expect(producer.send({ topic, acks: -1, timeout: 3000, messages: [{ key: 'GPU-1', value: 'a follower down' }] })).rejects.toThrow();
        expect(produceRequests).toBe(2);
      } finally {
        await producer.disconnect();
      }
    } finally {
      await admin.disconnect();
    }
  });
});

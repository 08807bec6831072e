import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, ensureTopics, kafkaOptions } from '@gpumon/runtime/kafka';

/**
 * A topic that ensureTopics made takes a write on every partition at once. The broker names itself
 * leader a moment before it takes writes; a produce in that moment failed for some partitions, and
 * kafkajs's retry of the whole request wrote the others twice (an alert posted twice, say).
 */
const run = randomBytes(3).toString('hex');
const settings = loadConfig(kafkaOptions, { topicPartitions: '6' });
const kafka = createKafka(settings, 'e2e-ensure-topics');
const admin = kafka.admin();
const topics = Array.from({ length: 5 }, (_, i) => `e2e-ensure-${run}-${i}`);

afterAll(async () => {
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
});

describe('ensureTopics', () => {
  it('returns once every partition of a new topic takes a write, so nothing needs a retry', async () => {
    await admin.connect();
    // No retries: a partition not yet taking writes fails the send instead of being hidden by a resend.
    const producer = kafka.producer({ retry: { retries: 0 }, allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (const topic of topics) {
        expect(await ensureTopics(admin, settings, [topic])).toEqual([topic]);
        await producer.send({ topic, acks: -1, messages: Array.from({ length: 6 }, (_, partition) => ({ partition, value: `p${partition}` })) });
        const offsets = await admin.fetchTopicOffsets(topic);
        expect(offsets.map((o) => [o.partition, o.high]).sort(([a], [b]) => Number(a) - Number(b)), topic)
          .toEqual(Array.from({ length: 6 }, (_, partition) => [partition, '1']));
      }
    } finally {
      await producer.disconnect();
    }
  });
});

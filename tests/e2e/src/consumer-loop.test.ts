import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { startConsumerLoop } from '@gpumon/runtime/consumer-loop';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createLogger } from '@gpumon/runtime/log';
import { eventually } from './cli-process.js';

/**
 * Deferred commits of the consume loop on the real broker, as the sink uses them: the loop fetches
 * and hands over the next batches while earlier ones are still being made durable, commits each
 * batch only once it is durable and after the batches before it, and stops on a batch that fails.
 */
const run = randomBytes(3).toString('hex');
const topic = `e2e-loop-${run}`;
const groupId = `e2e-loop-${run}`;
const kafka = createKafka(loadConfig(kafkaOptions), 'e2e-loop');
const admin = kafka.admin();

afterAll(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

function gate(): { promise: Promise<void>; open(): void; fail(error: Error): void } {
  let open: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

async function committedOffset(): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return Number(offsets?.partitions[0]?.offset ?? -1);
}

describe('the consume loop with deferred commits', () => {
  it('fetches on while batches become durable, commits in order once durable, and stops on a failed batch', async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    const wave = async (n: number): Promise<void> => {
      await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: `${n}-${i}` })) });
    };
    const gates = [gate(), gate(), gate()];
    const handled: number[] = [];
    const loop = await startConsumerLoop({
      kafka, groupId, topics: [topic], fromBeginning: true, log: createLogger('e2e-loop'), registry: new Registry(),
      handleBatch: async (batch) => {
        handled.push(batch.messages.length);
        return { durable: gates[handled.length - 1]!.promise };
      },
    });
    const done = loop.done.then(() => null, (error: unknown) => error);

    await wave(1);
    await eventually('the first batch handed over', async () => (handled.length === 1 ? true : undefined));
    await wave(2);
    // The loop did not wait for the first batch's durability before fetching the second.
    await eventually('the second batch handed over', async () => (handled.length === 2 ? true : undefined));
    expect(handled).toEqual([10, 10]);

    gates[1]!.open();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await committedOffset(), 'nothing committed past a batch not yet durable').toBe(-1);
    gates[0]!.open();
    await eventually('both batches committed', async () => ((await committedOffset()) === 20 ? true : undefined));
    expect(loop.committed()).toBe(20);

    await wave(3);
    await eventually('the third batch handed over', async () => (handled.length === 3 ? true : undefined));
    gates[2]!.fail(new Error('the database refused the write for good'));
    expect(await done).toEqual(new Error('the database refused the write for good'));
    expect(await committedOffset()).toBe(20);
    await producer.disconnect();
    await loop.stop();
  });
});

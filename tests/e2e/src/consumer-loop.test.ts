import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { startConsumerLoop } from '@gpumon/runtime/consumer-loop';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createLogger } from '@gpumon/runtime/log';
import { Pauses } from '@gpumon/runtime/pauses';
import { eventually } from './cli-process.js';

/**
 * Deferred commits of the consume loop on the real broker, as the sink uses them: the loop fetches
 * and hands over the next batches while earlier ones are still being made durable, commits each
 * batch only once it is durable and after the batches before it, and stops on a batch that fails.
 */
const run = randomBytes(3).toString('hex');
const topic = `e2e-loop-${run}`;
const groupId = `e2e-loop-${run}`;
const lagTopic = `e2e-lag-${run}`;
const kafka = createKafka(loadConfig(kafkaOptions), 'e2e-loop');
const admin = kafka.admin();

afterAll(async () => {
  await admin.deleteTopics({ topics: [topic, lagTopic] }).catch(() => undefined);
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
    const [log, registry] = [createLogger('e2e-loop'), new Registry()];
    const loop = await startConsumerLoop({
      kafka, groupId, topics: [topic], fromBeginning: true, log, registry, pauses: new Pauses(registry, 'e2e-loop', log),
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
    // The broker may answer the reader before the loop has the answer to its commit.
    await eventually('both batches committed', async () => ((await committedOffset()) === 20 && loop.committed() === 20 ? true : undefined));

    await wave(3);
    await eventually('the third batch handed over', async () => (handled.length === 3 ? true : undefined));
    gates[2]!.fail(new Error('the database refused the write for good'));
    expect(await done).toEqual(new Error('the database refused the write for good'));
    expect(await committedOffset()).toBe(20);
    await producer.disconnect();
    await loop.stop();
  });
});

/** The lag series a member's /metrics would show: partition → records behind. */
async function lagSeries(registry: Registry): Promise<Map<number, number>> {
  const metric = await registry.getSingleMetric('gpumon_consumer_lag')!.get();
  return new Map(metric.values.map((v) => [Number(v.labels.partition), v.value]));
}

describe('gpumon_consumer_lag', () => {
  it('is set on every fetch for the partitions a member owns, and a rebalance or a stop removes the series of those it lost', async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: lagTopic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    const fill = async (): Promise<void> => {
      await producer.send({ topic: lagTopic, messages: [0, 1].flatMap((partition) => Array.from({ length: 5 }, () => ({ partition, value: 'x' }))) });
    };
    const group = `e2e-lag-${run}`;
    // Writes that stay pending until the end: the lag at fetch is all there is, as when a database stalls.
    const stalled = gate();
    const member = (name: string, registry: Registry) => startConsumerLoop({
      kafka, groupId: group, topics: [lagTopic], fromBeginning: true, sessionTimeoutMs: 6000, log: createLogger(name), registry,
      pauses: new Pauses(registry, name, createLogger(name)),
      handleBatch: () => Promise.resolve({ durable: stalled.promise }),
    });
    const [first, second] = [new Registry(), new Registry()];
    const a = await member('e2e-lag-a', first);
    await fill();
    await eventually('member a reporting both partitions, 5 records behind each', async () => {
      const series = await lagSeries(first);
      return series.get(0) === 5 && series.get(1) === 5 ? true : undefined;
    });
    const b = await member('e2e-lag-b', second);
    await fill();
    const [aOwns, bOwns] = await eventually('each member reporting only its own partition', async () => {
      const [aSeries, bSeries] = [await lagSeries(first), await lagSeries(second)];
      return aSeries.size === 1 && bSeries.size === 1 ? [[...aSeries.keys()], [...bSeries.keys()]] : undefined;
    });
    expect([...aOwns!, ...bOwns!].sort()).toEqual([0, 1]);
    stalled.open();
    await b.stop();
    expect((await lagSeries(second)).size, 'no series left by a member that left the group').toBe(0);
    await a.stop();
    await producer.disconnect();
  });
});


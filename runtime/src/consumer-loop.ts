import type { Batch, Consumer, Kafka } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { GpumonError, errorMessage } from './errors.js';
import type { Logger } from './log.js';

export interface ConsumerLoopOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts. */
  fromBeginning: boolean;
  /** How long the group waits for a silent member (a crashed process) before moving its partitions (ms). */
  sessionTimeoutMs?: number;
  /** Fetch shape: the broker holds a fetch until it has `minBytes` or `maxWaitTimeInMs` passed (kafkajs: 1 byte, 5 s). */
  consumer?: { minBytes?: number; maxWaitTimeInMs?: number };
  /** Partition batches handled at once (default 1); each batch is still committed only after its own handler resolves. */
  partitionsConsumedConcurrently?: number;
  log: Logger;
  /** Gets `gpumon_consumer_lag{group,topic,partition}`: records behind the partition's end after each batch. */
  registry: Registry;
  /** Handles every message of one partition's batch; offsets are committed only after it resolves. */
  handleBatch(batch: Batch, heartbeat: () => Promise<void>): Promise<void>;
}

export interface RunningConsumer {
  consumer: Consumer;
  /** Records whose batch has been handled and committed. */
  committed(): number;
  /** Finishes the batch in hand, commits it, leaves the group. */
  stop(): Promise<void>;
  /** Settles when the consumer stops for good (after stop(), or a crash it could not recover from). */
  done: Promise<void>;
}

/**
 * The one consume loop of gpumon: batch consumption in a consumer group with at-least-once
 * delivery. A batch's offsets are committed only after its handler resolves, so a crash replays
 * the batch instead of losing it.
 */
export async function startConsumerLoop(options: ConsumerLoopOptions): Promise<RunningConsumer> {
  const { kafka, groupId, topics, log } = options;
  const lag = new Gauge({
    name: 'gpumon_consumer_lag', help: 'Records between the last handled offset and the end of the partition.',
    labelNames: ['group', 'topic', 'partition'], registers: [options.registry],
  });
  const committed = new Counter({
    name: 'gpumon_consumer_records_committed_total', help: 'Records whose batch was handled and whose offsets were committed.',
    labelNames: ['group'], registers: [options.registry],
  });
  let committedCount = 0;
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const consumer = kafka.consumer({
    groupId, allowAutoTopicCreation: false, maxBytesPerPartition: 4 * 1024 * 1024,
    sessionTimeout, heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 10)), ...options.consumer,
  });
  let settle: (error?: unknown) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) {
      settle(new GpumonError('service_unreachable', `consumer group ${groupId} crashed: ${errorMessage(event.payload.error)}`));
    }
  });
  consumer.on(consumer.events.STOP, () => settle());

  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: options.fromBeginning });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      await options.handleBatch(batch, heartbeat);
      // Resolving moves this consumer's fetch position; committing makes it survive a restart.
      resolveOffset(batch.lastOffset());
      const next = (BigInt(batch.lastOffset()) + 1n).toString();
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      lag.set({ group: groupId, topic: batch.topic, partition: batch.partition }, Number(batch.offsetLag()));
      committed.inc({ group: groupId }, batch.messages.length);
      committedCount += batch.messages.length;
    },
  });
  log.info('consuming', { group: groupId, topics: topics.join(',') });

  return {
    consumer,
    committed: () => committedCount,
    done,
    stop: async () => {
      await consumer.disconnect();
      settle();
    },
  };
}

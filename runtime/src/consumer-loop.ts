// First: kafkajs's producer takes its grouping when kafkajs loads (kafkajs-fixes.ts).
import './kafkajs-fixes.js';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, { type Batch, type Consumer, type ConsumerRunConfig, type Kafka } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { GpumonError, errorMessage } from './errors.js';
import { classifyConsumeError } from './kafka-errors.js';
import type { Logger } from './log.js';
import type { Pauses } from './pauses.js';
import { DEFAULT_BACKOFF, backoffDelayMs } from './retry.js';

/** How often a batch waiting for earlier ones to become durable tells the group it is alive. */
const HEARTBEAT_MS = 3000;

/**
 * Fetch shape: the broker holds a fetch until it has `minBytes` or `maxWaitTimeInMs` passed
 * (kafkajs: 1 byte, 5 s); one fetch brings at most `maxBytes`, and `maxBytesPerPartition` of each
 * partition (default 1 MiB, about 900 samples: what one handler holds decoded at once).
 */
export interface FetchShape {
  minBytes?: number;
  maxWaitTimeInMs?: number;
  maxBytes?: number;
  maxBytesPerPartition?: number;
}

export interface ConsumerLoopOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts. */
  fromBeginning: boolean;
  /** How long the group waits for a silent member (a crashed process) before moving its partitions (ms). */
  sessionTimeoutMs?: number;
  consumer?: FetchShape;
  /** Partition batches handled at once (default 1); each batch is still committed only after its own handler resolves. */
  partitionsConsumedConcurrently?: number;
  log: Logger;
  /**
   * Gets `gpumon_consumer_lag{group,topic,partition}`: records behind the partition's end, set on
   * every fetch and every commit, for the partitions this member owns (a revoked one's series is removed).
   */
  registry: Registry;
  /**
   * Where the loop shows that it waits on an operator: a missing ACL on its topics or group, a topic
   * that is gone. It pauses, restarts the consumer with capped backoff, and resumes once a fetch succeeds.
   */
  pauses: Pauses;
  /**
   * Handles every message of one partition's batch; offsets are committed only after it resolves,
   * or, when it returns a DeferredCommit, once that is durable, while the loop fetches on. The loop
   * heartbeats after the commit: one before it, finding the group rebalancing, would fail the batch
   * whose effects are done, and the next owner would repeat them.
   */
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- a handler whose batch is done when it returns returns nothing
  handleBatch(batch: Batch): Promise<void | DeferredCommit>;
  /**
   * Records handed over but not yet durable, at most, for handlers that defer (default 10,000);
   * beyond it the loop waits. It bounds the memory a consumer holds while its writes are slower than its fetches.
   */
  maxPendingRecords?: number;
}

/**
 * A batch whose effects become durable later (rows still being written): the loop fetches and
 * hands over the next batches meanwhile, and commits this one once `durable` resolves, after the
 * batches before it of the same partition. If it rejects, the loop stops with that error, so a
 * restart replays from the last commit (the handler must be idempotent).
 */
export interface DeferredCommit {
  durable: Promise<void>;
}

export interface RunningConsumer {
  consumer: Consumer;
  /** Records whose batch has been handled and committed. */
  committed(): number;
  /** Finishes the batches in hand, commits what became durable, leaves the group. */
  stop(): Promise<void>;
  /** Settles when the consumer stops for good (after stop(), or a crash that neither time nor an operator fixes). */
  done: Promise<void>;
}

/** Errors saying the group moved on without this member (a rebalance, a coordinator that forgot it): kafkajs rejoins on them. */
const MEMBERSHIP_ERRORS: ReadonlySet<string> = new Set(['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION']);

/** The membership error in `error`'s chain of causes: kafkajs's own retry wraps it in an error that no longer says so. */
function membershipError(error: unknown): Error | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (MEMBERSHIP_ERRORS.has((e as { type?: string }).type ?? '')) return e;
  }
  return undefined;
}

/** `gpumon_consumer_lag` of one member: series only for the partitions it owns. */
class PartitionLag {
  private readonly gauge: Gauge;
  /** Partitions with a series, by topic. */
  private readonly owned = new Map<string, Set<number>>();

  constructor(registry: Registry, private readonly group: string) {
    this.gauge = new Gauge({
      name: 'gpumon_consumer_lag', help: 'Records between the next offset this member handles and the end of the partition, for the partitions it owns.',
      labelNames: ['group', 'topic', 'partition'], registers: [registry],
    });
  }

  set(topic: string, partition: number, records: number): void {
    this.gauge.set({ group: this.group, topic, partition }, Math.max(0, records));
    const partitions = this.owned.get(topic) ?? new Set<number>();
    partitions.add(partition);
    this.owned.set(topic, partitions);
  }

  /** Removes the series of every partition not in `assignment` (topic → partitions), as a rebalance or a stop leaves it. */
  keepOnly(assignment: Readonly<Record<string, readonly number[] | undefined>>): void {
    for (const [topic, partitions] of this.owned) {
      const kept = new Set(assignment[topic] ?? []);
      for (const partition of partitions) {
        if (kept.has(partition)) continue;
        this.gauge.remove({ group: this.group, topic, partition });
        partitions.delete(partition);
      }
    }
  }
}

/**
 * The one consume loop of gpumon: batch consumption in a consumer group with at-least-once
 * delivery. A batch's offsets are committed only after its handler resolves, so a crash replays
 * the batch instead of losing it.
 */
export async function startConsumerLoop(options: ConsumerLoopOptions): Promise<RunningConsumer> {
  const { kafka, groupId, topics, log } = options;
  const lag = new PartitionLag(options.registry, groupId);
  const committed = new Counter({
    name: 'gpumon_consumer_records_committed_total', help: 'Records whose batch was handled and whose offsets were committed.',
    labelNames: ['group'], registers: [options.registry],
  });
  let committedCount = 0;
  let stopping = false;
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const consumer = kafka.consumer({
    groupId, allowAutoTopicCreation: false, maxBytesPerPartition: 1024 * 1024,
    sessionTimeout, heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 10)), ...options.consumer,
    // kafkajs restarts a crashed consumer on a timer that stop() may not reach: none once stopping.
    // What an operator fixes it would retry every 300 ms: the restart below waits that out with backoff.
    retry: { restartOnFailure: (error) => Promise.resolve(!stopping && classifyConsumeError(error) === undefined) },
  });
  // A rebalance that moved a partition away: its lag is its new owner's to report, or sums would count it twice.
  consumer.on(consumer.events.GROUP_JOIN, (event) => lag.keepOnly(event.payload.memberAssignment));
  let settle: (error?: unknown) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });

  // Waiting on an operator: kafkajs gives a refused ACL up for good, so the loop restarts the
  // consumer itself, from the last commit, until a fetch succeeds.
  const paused = options.pauses.hold();
  const consuming = `consuming ${topics.join(', ')} in group ${groupId}`;
  let attempt = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let restarting: Promise<void> | undefined;
  // A fetch answered: whatever stopped the consumer is fixed.
  consumer.on(consumer.events.FETCH, () => {
    attempt = 0;
    paused.release(true);
  });
  // Not settled on kafkajs's STOP event: it sends that on every crash too, the ones it restarts from included.
  consumer.on(consumer.events.CRASH, (event) => {
    if (event.payload.restart || stopping) return;
    const fixable = classifyConsumeError(event.payload.error);
    if (fixable === undefined) {
      settle(new GpumonError('service_unreachable', `consumer group ${groupId} crashed: ${errorMessage(event.payload.error)}`));
      return;
    }
    paused.waitOn(fixable.reason, consuming, new Error(`${consuming}: ${fixable.said}`));
    const delay = backoffDelayMs(attempt++, DEFAULT_BACKOFF);
    log.debug(`${consuming} failed, restarting the consumer in ${delay} ms`, { attempt, error: fixable.said });
    restartTimer = setTimeout(() => {
      // It rejoins from the last commit; a refusal again comes back as the next CRASH event.
      if (!stopping) restarting = consumer.run(run).catch((error: unknown) => settle(error));
    }, delay);
  });

  const commit = async (batch: Batch): Promise<void> => {
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
    lag.set(batch.topic, batch.partition, Number(batch.offsetLag()));
    committed.inc({ group: groupId }, batch.messages.length);
    committedCount += batch.messages.length;
  };

  // Deferred commits: per partition, the chain of its batches' commits; all of them, settled, for back-pressure and stop.
  const chains = new Map<string, Promise<void>>();
  const pending = new Set<Promise<void>>();
  const maxPendingRecords = options.maxPendingRecords ?? 10_000;
  let pendingRecords = 0;
  const deferCommit = (batch: Batch, deferred: DeferredCommit): void => {
    const key = `${batch.topic}\u0000${batch.partition}`;
    // Its failure is taken up below, once the batches before it are done; until then it must not count as unhandled.
    deferred.durable.catch(() => undefined);
    const chain = (chains.get(key) ?? Promise.resolve()).then(() => deferred.durable).then(() => commit(batch).catch((error: unknown) => {
      // A partition that moved to another member in a rebalance: its new owner replays from the last commit.
      log.warn('could not commit; the records will be handled again', { topic: batch.topic, partition: batch.partition, offset: batch.lastOffset(), error: errorMessage(error) });
    }));
    chains.set(key, chain);
    const settled = chain.then(() => undefined, (error: unknown) => {
      if (stopping) return;
      log.error('a batch could not be completed; stopping so a restart replays it', { topic: batch.topic, partition: batch.partition, error: errorMessage(error) });
      // Nothing after it in its partition may be committed: leave the group, so its partitions restart from the last commit.
      stopping = true;
      settle(error);
      void consumer.disconnect().catch(() => undefined);
    }).finally(() => {
      pending.delete(settled);
      pendingRecords -= batch.messages.length;
    });
    pending.add(settled);
    pendingRecords += batch.messages.length;
  };

  // Handlers running now: a stop waits for them, and for the commits they defer, before it leaves the group.
  const inFlight = new Set<Promise<unknown>>();
  let leaving = false;

  /** Hands a batch to the handler and commits it, or defers its commit; `resolveOffset` is kafkajs's, which moves the fetch position. */
  const handleAndCommit = async (batch: Batch, resolveOffset: (offset: string) => void): Promise<void> => {
    let handled: Awaited<ReturnType<ConsumerLoopOptions['handleBatch']>>;
    try {
      handled = await options.handleBatch(batch);
    } catch (error) {
      // Given up because the stop aborted its retries: nothing of it is committed, and a throw here
      // would make kafkajs leave the group before the other batches in hand commit.
      if (stopping) return;
      throw error;
    }
    resolveOffset(batch.lastOffset());
    if (handled === undefined) {
      await commit(batch).catch((error: unknown) => {
        const membership = membershipError(error);
        if (membership === undefined) throw error;
        log.warn('could not commit: the group moved on; rejoining, and the records will be handled again', {
          topic: batch.topic, partition: batch.partition, offset: batch.lastOffset(), error: errorMessage(error),
        });
        // Thrown as kafkajs's own error, kafkajs rejoins the group; wrapped, it would end the consumer for good.
        throw membership;
      });
      return;
    }
    deferCommit(batch, handled);
  };

  const run: ConsumerRunConfig = {
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      // A kafkajs restart still joining the group when stop() came runs on out of its reach: ended for good here, before it handles anything.
      if (leaving) throw new kafkajs.KafkaJSNonRetriableError(`consumer group ${groupId} is stopping`);
      // Fetched before the stop paused its partitions: left unresolved and uncommitted, the next owner reads it.
      if (stopping) return;
      // Behind the end by this batch and what follows it, until its commit says less: a stalled handler shows.
      lag.set(batch.topic, batch.partition, Number(batch.highWatermark) - Number(batch.firstOffset()));
      const handling = handleAndCommit(batch, resolveOffset);
      inFlight.add(handling);
      try {
        await handling;
      } finally {
        inFlight.delete(handling);
      }
      while (pendingRecords > maxPendingRecords && !stopping) {
        await Promise.race([...pending, sleep(HEARTBEAT_MS)]);
        await heartbeat();
      }
    },
  };
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: options.fromBeginning });
  await consumer.run(run);
  log.info('consuming', { group: groupId, topics: topics.join(',') });

  return {
    consumer,
    committed: () => committedCount,
    done,
    stop: async () => {
      // The order that replays nothing: fetch no more, let the batches in hand finish and their
      // durable writes commit while this member still owns their partitions, and only then leave.
      // kafkajs's stop() leaves the group at once once its handlers return, failing deferred commits.
      stopping = true;
      clearTimeout(restartTimer);
      // A restart joining the group now: once it has, the stop below reaches it.
      await restarting;
      paused.release(false);
      try {
        consumer.pause(topics.map((topic) => ({ topic })));
      } catch {
        // No group to pause (kafkajs between a crash and its restart): there is nothing in hand either.
      }
      while (inFlight.size > 0 || pending.size > 0) await Promise.allSettled([...inFlight, ...pending]);
      leaving = true;
      await consumer.stop();
      await consumer.disconnect();
      lag.keepOnly({});
      settle();
    },
  };
}

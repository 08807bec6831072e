import type { KafkaMessage } from 'kafkajs';
import { Registry } from 'prom-client';
import type { Stream } from '@gpumon/schemas/topics';
import type { StreamRecords } from '@gpumon/schemas/types.generated';
import { parse, type ConfigOf } from './config.js';
import { startConsumerLoop, type ConsumerLoopOptions, type DeferredCommit, type FetchShape } from './consumer-loop.js';
import { Counters } from './counters.js';
import { DeadLetters, decodeMessages } from './dead-letter.js';
import type { Logger } from './log.js';
import { defaultMetricsPort, metricsOptions, startMetricsServer } from './metrics.js';
import { openPipeline, type Pipeline, type PipelineSettings } from './pipeline.js';
import { Pauses } from './pauses.js';
import { validateRecord } from './sample-validation.js';
import { sendDeadLetters, type OutgoingMessage, type SendContext } from './send.js';

export type { DeferredCommit } from './consumer-loop.js';

/** One consumed Kafka record, in runtime's own terms: what a stage may read of it besides its decoded value. */
export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Milliseconds since the epoch, as the broker or producer stamped it, in decimal. */
  timestamp: string;
  headers: Readonly<Record<string, Buffer | string | Array<Buffer | string> | undefined>>;
}

/** A record that decoded and passed validation, with the message it came in. */
export interface Consumed<S extends Stream> {
  message: ConsumedMessage;
  record: StreamRecords[S];
}

/** The valid records of one partition's batch. */
export interface ConsumedBatch<S extends Stream> {
  stream: S;
  topic: string;
  partition: number;
  records: Array<Consumed<S>>;
}

/**
 * What every consuming stage's command line offers, declared once; `env` is the stage's own
 * variable prefix (GPUMON_SINK → GPUMON_SINK_GROUP), so each stage keeps its documented names.
 */
export function consumerOptions(env: string, defaults: { group?: string; fromBeginning: 'true' | 'false'; metricsPort?: number }) {
  return {
    groupId: {
      env: `${env}_GROUP`, flag: 'group', example: `${defaults.group ?? 'gpumon-score-health'}-eu`,
      ...defaults.group === undefined ? {} : { default: defaults.group },
      description: `Kafka consumer group; instances in one group share the partitions${defaults.group === undefined ? ' (default: gpumon-<processor>)' : ''}.`,
      schema: parse.optionalString(),
    },
    fromBeginning: {
      env: `${env}_FROM_BEGINNING`, flag: 'from-beginning', default: defaults.fromBeginning, example: defaults.fromBeginning === 'true' ? 'false' : 'true',
      description: 'Where a new consumer group starts: the oldest record (true) or the next one written (false).',
      schema: parse.boolean(),
    },
    sessionTimeout: {
      env: 'GPUMON_CONSUMER_SESSION_TIMEOUT', flag: 'session-timeout', default: '30s', example: '10s',
      description: 'How long the group waits for an instance that stopped answering (crashed) before its partitions move to the others (the broker allows 6s to 300s).',
      schema: parse.durationMs(),
    },
    metricsPort: { ...metricsOptions.metricsPort, ...defaults.metricsPort === undefined ? {} : { default: String(defaults.metricsPort) } },
    metricsAddress: metricsOptions.metricsAddress,
  } as const;
}

export type ConsumerSettings = PipelineSettings & ConfigOf<ReturnType<typeof consumerOptions>>;

/** What the shell lends a stage once the pipeline is open. */
export interface ConsumerContext<S extends Stream> {
  /** The codecs of its topics and the dead-letter size limit; the Kafka clients stay with the shell. */
  pipeline: Pick<Pipeline<S>, 'codecs' | 'deadLetterMaxBytes'>;
  registry: Registry;
  counters: Counters;
  pauses: Pauses;
  deadLetters: DeadLetters;
  /** Aborted when the stop begins: retries waiting on an outage give up, and their batch is not committed. */
  signal: AbortSignal;
  log: Logger;
  /** What every send to Kafka of this stage goes with. */
  send: SendContext;
  /** Sends dead letters, each cut to fit its topic, retried while time or an operator can fix the send. */
  sendDeadLetters(letters: readonly OutgoingMessage[]): Promise<void>;
}

/** A stage's work, once started: the handler of valid records and what it adds to readiness. */
export interface ConsumerStage<I extends Stream> {
  /**
   * Handles the valid records of one partition's batch (the invalid ones are already dead letters);
   * offsets are committed once it resolves, or once its DeferredCommit is durable.
   */
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- a handler whose batch is done when it returns returns nothing
  handle(batch: ConsumedBatch<I>): Promise<void | DeferredCommit>;
  /**
   * Called as a batch arrives, before it is decoded, by a stage that groups the work of concurrent
   * batches (the sink's writes): the call it returns says the batch is handed over or given up.
   */
  arriving?(stream: I): () => void;
  /** Throws while a dependency of the stage's own (a database) cannot be used; /readyz answers 503 with the message. */
  ready?(): Promise<void>;
}

/**
 * A consuming stage: a processor or a sink. It names what it reads and writes; the shell
 * (runConsumer) does the rest: pipeline, group, decoding, validation, dead letters, metrics, stop.
 */
export interface ConsumerDefinition<I extends Stream, O extends Stream = never> {
  component: string;
  inputs: readonly I[];
  /** Streams it produces to, whose topics and schemas must exist before it starts. */
  outputs?: readonly O[];
  /**
   * Per input, top-level fields the stage never reads: they are skipped, not decoded, and its
   * records lack them (TopicCodec.decoderLeavingOut). Validation refuses what it refused before.
   */
  leaveOut?: { readonly [K in I]?: readonly string[] };
  fetch?: FetchShape;
  /** Partition batches handled at once (default 1). */
  concurrentBatches?: number;
  /** For a stage whose handler defers its commits: records handed over and not yet durable, at most (default 10,000). */
  maxPendingRecords?: number;
  start(context: ConsumerContext<I | O>): ConsumerStage<I>;
  /** Releases what the definition holds (a model, a database pool), after the last batch is committed. */
  close(): Promise<void>;
}

/** A stage that ends the pipeline: it consumes and writes elsewhere (a database, an HTTP API), producing only dead letters. */
export type SinkDefinition<I extends Stream> = ConsumerDefinition<I>;

export interface RunningConsumer {
  counters: Counters;
  /** Input records handled, their effects durable and their offsets committed. */
  committed(): number;
  stop(): Promise<void>;
  done: Promise<void>;
}

function consumedMessage(topic: string, partition: number, message: KafkaMessage): ConsumedMessage {
  return { topic, partition, offset: message.offset, key: message.key ?? null, value: message.value, timestamp: message.timestamp, headers: message.headers ?? {} };
}

/**
 * The one shell around every consuming stage. Stop order, the one that replays nothing: fetch no
 * more, finish the batches in hand and their durable writes, commit, leave the group; then the
 * definition closes (its writes are done), then the pipeline (its producer sent the last letters).
 */
export async function runConsumer<I extends Stream, O extends Stream>(
  definition: ConsumerDefinition<I, O>,
  settings: ConsumerSettings,
  log: Logger,
): Promise<RunningConsumer> {
  let pipeline: Pipeline<I | O>;
  try {
    pipeline = await openPipeline(settings, definition.component, [...definition.inputs, ...definition.outputs ?? []], log);
  } catch (error) {
    await definition.close();
    throw error;
  }
  const registry = new Registry();
  const counters = new Counters(registry, definition.component);
  const deadLetters = new DeadLetters(definition.component, pipeline.codecs.dlq, counters, log, pipeline.deadLetterMaxBytes);
  const stopping = new AbortController();
  const pauses = new Pauses(registry, definition.component, log);
  const send: SendContext = { producer: pipeline.producer, log, signal: stopping.signal, pauses };
  const context: ConsumerContext<I | O> = {
    pipeline, registry, counters, pauses, deadLetters, signal: stopping.signal, log, send,
    sendDeadLetters: (letters) => sendDeadLetters(deadLetters.topic, letters, send),
  };
  const stage = definition.start(context);
  const inputs = new Map(definition.inputs.map((stream) => [pipeline.codecs[stream].topic, stream]));
  const decoders = new Map(definition.inputs.map((stream) => [stream, pipeline.codecs[stream].decoderLeavingOut(definition.leaveOut?.[stream] ?? [])]));

  const handleBatch: ConsumerLoopOptions['handleBatch'] = async (batch) => {
    const stream = inputs.get(batch.topic);
    if (stream === undefined) throw new Error(`${definition.component} got a batch of unexpected topic ${batch.topic}`);
    const decode = decoders.get(stream)!;
    const handedOver = stage.arriving?.(stream);
    try {
      const messages = batch.messages.map((m) => consumedMessage(batch.topic, batch.partition, m));
      const { decoded, letters } = await decodeMessages(
        messages, decode, deadLetters, counters, log, stopping.signal,
        (record, message) => validateRecord(stream, record, Number(message.timestamp)),
      );
      await context.sendDeadLetters(letters);
      return await stage.handle({ stream, topic: batch.topic, partition: batch.partition, records: decoded });
    } finally {
      handedOver?.();
    }
  };

  // Ready means not paused, the broker still answers for every input topic (a metadata fetch, not a ping), and the stage's own check.
  const endpoint = { port: settings.metricsPort ?? defaultMetricsPort(definition.component), address: settings.metricsAddress };
  // Before joining the group: a port taken fails the start before any partition is held.
  const server = await startMetricsServer(endpoint, registry, async () => {
    pauses.check();
    for (const topic of inputs.keys()) await pipeline.admin.fetchTopicOffsets(topic);
    await stage.ready?.();
  }, log).catch(async (error: unknown) => {
    await definition.close();
    await pipeline.close();
    throw error;
  });

  const running = await startConsumerLoop({
    registry,
    pauses,
    kafka: pipeline.kafka,
    groupId: settings.groupId ?? `gpumon-${definition.component}`,
    topics: [...inputs.keys()],
    fromBeginning: settings.fromBeginning,
    sessionTimeoutMs: settings.sessionTimeout,
    ...definition.fetch === undefined ? {} : { consumer: definition.fetch },
    ...definition.concurrentBatches === undefined ? {} : { partitionsConsumedConcurrently: definition.concurrentBatches },
    ...definition.maxPendingRecords === undefined ? {} : { maxPendingRecords: definition.maxPendingRecords },
    log,
    handleBatch,
  });

  return {
    counters,
    committed: running.committed,
    done: running.done,
    stop: async () => {
      // The loop marks itself stopping first, so work given up by the abort is not taken for a failure.
      const stopped = running.stop();
      stopping.abort();
      server?.close();
      try {
        await stopped;
      } finally {
        await definition.close();
        await pipeline.close();
      }
      log.info('stopped', counters.snapshot());
    },
  };
}

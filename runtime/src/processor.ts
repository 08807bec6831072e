import type { KafkaMessage } from 'kafkajs';
import type { TopicCodec } from './avro-codec.js';
import { Registry } from 'prom-client';
import type { Stream } from '@gpumon/schemas/topics';
import type { StreamRecords } from '@gpumon/schemas/types.generated';
import { parse, type ConfigOf, type ConfigSpec } from './config.js';
import { sessionTimeoutOption, startConsumerLoop } from './consumer-loop.js';
import { Counters } from './counters.js';
import { DeadLetters, decodeBatch } from './dead-letter.js';
import { GpumonError, errorMessage } from './errors.js';
import type { Logger } from './log.js';
import { metricsOptions, startMetricsServer } from './metrics.js';
import { openPipeline, type PipelineSettings } from './pipeline.js';
import { letterGroups, refuseNoLetter, sendDeadLetters, sendIsolating, type SendGroup } from './send.js';
import { Pauses } from './pauses.js';
import { validateRecord } from './sample-validation.js';

export type EnrichedStream = Exclude<Stream, 'samples' | 'dlq'>;

/** One output record and its stream; a union over the streams, so `stream` tells which record it is. */
export type Output<O extends EnrichedStream> = O extends EnrichedStream ? { stream: O; record: StreamRecords[O] } : never;

export type Transform<I extends Stream, O extends EnrichedStream> = (record: StreamRecords[I]) => Array<Output<O>>;

/** Per input record, in order: its outputs, or the error that sends it to the DLQ. */
export type BatchResult<O extends EnrichedStream> = Array<Array<Output<O>> | Error>;

/**
 * A transform that sees a consumed batch at once, for work that pays per call (model inference).
 * Each record's outputs still depend on that record alone.
 */
export interface BatchTransform<I extends Stream, O extends EnrichedStream> {
  transformBatch(records: ReadonlyArray<StreamRecords[I]>): Promise<BatchResult<O>>;
  /** Releases what create() acquired (a model session), after the last batch. */
  close?(): Promise<void>;
}

/** What every processor declares besides its transform. */
interface ProcessorInfo<I extends Stream, O extends EnrichedStream, C extends ConfigSpec> {
  name: string;
  description: string;
  input: I;
  outputs: readonly O[];
  /** The processor's own settings, declared once (flags, environment, README table). */
  options: C;
}

/**
 * A processor is its pure transform and its settings, nothing else: every output is a function of
 * one input record plus static config, so instances scale by consumer group and a replay gives the
 * same answer. The runtime does the consuming, decoding, producing, committing and dead-lettering.
 */
export interface RecordProcessor<I extends Stream, O extends EnrichedStream, C extends ConfigSpec = ConfigSpec> extends ProcessorInfo<I, O, C> {
  /** The transform for validated settings; reads any config file once, here, at start. */
  create(settings: ConfigOf<C>): Transform<I, O>;
}

/** A processor whose transform takes a whole batch (model inference), still record by record in meaning. */
export interface BatchProcessor<I extends Stream, O extends EnrichedStream, C extends ConfigSpec = ConfigSpec> extends ProcessorInfo<I, O, C> {
  /** Loads what the transform needs (a model) once; a failure here stops the processor before it connects to anything. */
  createBatch(settings: ConfigOf<C>): Promise<BatchTransform<I, O>>;
}

export type ProcessorDefinition<I extends Stream, O extends EnrichedStream, C extends ConfigSpec = ConfigSpec> =
  | RecordProcessor<I, O, C>
  | BatchProcessor<I, O, C>;

/** The transform of any processor, over a batch. */
export async function createBatchTransform<I extends Stream, O extends EnrichedStream, C extends ConfigSpec>(
  definition: ProcessorDefinition<I, O, C>, settings: ConfigOf<C>,
): Promise<BatchTransform<I, O>> {
  return 'create' in definition ? perRecord(definition.create(settings)) : definition.createBatch(settings);
}

/** A per-record transform run over a batch: a record whose transform throws is dead-lettered alone. */
function perRecord<I extends Stream, O extends EnrichedStream>(transform: Transform<I, O>): BatchTransform<I, O> {
  return {
    transformBatch: (records) => Promise.resolve(records.map((record) => {
      try {
        return transform(record);
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    })),
  };
}

export const processorOptions = {
  groupId: {
    env: 'GPUMON_PROCESSOR_GROUP', flag: 'group', example: 'gpumon-score-health-eu',
    description: 'Kafka consumer group; instances in one group share the partitions (default: gpumon-<processor>).',
    schema: parse.optionalString(),
  },
  fromBeginning: {
    env: 'GPUMON_PROCESSOR_FROM_BEGINNING', flag: 'from-beginning', default: 'true', example: 'false',
    description: 'Where a new consumer group starts: the oldest record (true) or the next one written (false).',
    schema: parse.boolean(),
  },
  sessionTimeout: sessionTimeoutOption,
  ...metricsOptions,
} as const;

export interface ProcessorRunOptions {
  groupId?: string | undefined;
  fromBeginning: boolean;
  sessionTimeout: number;
  metricsPort: number;
}

export interface RunningProcessor {
  counters: Counters;
  /** Input records handled, their outputs acknowledged and their offsets committed. */
  committed(): number;
  stop(): Promise<void>;
  done: Promise<void>;
}

export async function runProcessor<I extends Stream, O extends EnrichedStream, C extends ConfigSpec>(
  definition: ProcessorDefinition<I, O, C>,
  settings: PipelineSettings & ProcessorRunOptions & ConfigOf<C>,
  log: Logger,
): Promise<RunningProcessor> {
  const stage = await createBatchTransform(definition, settings);
  const validate = (record: StreamRecords[I], message: KafkaMessage): void => validateRecord(definition.input, record, Number(message.timestamp));
  const pipeline = await openPipeline(settings, definition.name, [definition.input, ...definition.outputs], log);
  const input = pipeline.codecs[definition.input];
  const registry = new Registry();
  const counters = new Counters(registry, definition.name);
  const deadLetters = new DeadLetters(definition.name, pipeline.codecs.dlq, counters, log, pipeline.deadLetterMaxBytes);
  const stopping = new AbortController();
  const pauses = new Pauses(registry, definition.name, log);

  const running = await startConsumerLoop({
    registry,
    kafka: pipeline.kafka,
    groupId: settings.groupId ?? `gpumon-${definition.name}`,
    topics: [input.topic],
    fromBeginning: settings.fromBeginning,
    sessionTimeoutMs: settings.sessionTimeout,
    log,
    handleBatch: async (batch) => {
      const { decoded, letters } = await decodeBatch(batch, (v) => input.decode(v), deadLetters, counters, log, stopping.signal, validate);
      const groups: Array<SendGroup<KafkaMessage | null>> = [];
      const results = await stage.transformBatch(decoded.map((d) => d.record));
      for (const [i, { message }] of decoded.entries()) {
        const result = results[i];
        try {
          if (result instanceof Error || result === undefined) throw result ?? new Error('the transform returned no result for this record');
          // All of a record's outputs, or none of them: encode them all before queueing any.
          const outputs = result.map((output) => {
            const codec = pipeline.codecs[output.stream as O] as TopicCodec<EnrichedStream>;
            return { topic: codec.topic, message: { key: output.record.gpu_uuid, value: codec.encode(output.record) } };
          });
          if (outputs.length > 0) groups.push({ item: message, messages: outputs });
        } catch (error) {
          letters.push(deadLetters.letter(batch, message, error, 'transform_failed'));
        }
      }
      const context = { producer: pipeline.producer, log, signal: stopping.signal, pauses };
      const refused = await sendIsolating(`producing the outputs of ${batch.messages.length} records`, [...groups, ...letterGroups(deadLetters.topic, letters)], context);
      refuseNoLetter(deadLetters.topic, refused);
      // A record whose output the broker refuses (too large for its topic) is dead-lettered, its original cut to fit if need be.
      const tooLarge = refused.flatMap(({ item, messages, error }) => {
        if (item === null) return [];
        const topics = [...new Set(messages.map((m) => m.topic))].join(',');
        return [deadLetters.letter(batch, item, new GpumonError('record_too_large', `${topics} refused an output of this record: ${errorMessage(error)}`), 'record_too_large')];
      });
      await sendDeadLetters(deadLetters.topic, tooLarge, context);
      const refusedItems = new Set(refused.map((r) => r.item));
      counters.add('sent', groups.filter((g) => !refusedItems.has(g.item)).reduce((n, g) => n + g.messages.length, 0));
    },
  });

  // Healthy means not paused and the broker still answers for the input topic (a metadata fetch, not a ping).
  const server = await startMetricsServer(settings.metricsPort, registry, async () => {
    pauses.check();
    await pipeline.admin.fetchTopicOffsets(input.topic);
  }, log);

  const stop = async (): Promise<void> => {
    // The loop marks itself stopping first, so a send given up by the abort is not taken for a failure.
    const stopped = running.stop();
    stopping.abort();
    server?.close();
    await stopped;
    await stage.close?.();
    await pipeline.close();
    log.info('stopped', counters.snapshot());
  };
  return { counters, committed: running.committed, stop, done: running.done };
}

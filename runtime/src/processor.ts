import type { TopicCodec } from './avro-codec.js';
import type { Stream } from '@gpumon/schemas/topics';
import type { StreamRecords } from '@gpumon/schemas/types.generated';
import type { ConfigOf, ConfigSpec } from './config.js';
import { consumerOptions, runConsumer, type ConsumedMessage, type ConsumerDefinition, type ConsumerSettings, type RunningConsumer } from './consumer.js';
import { GpumonError, errorMessage } from './errors.js';
import type { Logger } from './log.js';
import { letterGroups, refuseNoLetter, sendIsolating, type OutgoingMessage, type SendGroup } from './send.js';

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

export const processorOptions = consumerOptions('GPUMON_PROCESSOR', { fromBeginning: 'true' });

/** A processor as the consumer shell runs it: decoded, valid input records in, their outputs produced (all of a record's, or none). */
function processorConsumer<I extends Stream, O extends EnrichedStream>(
  name: string, input: I, outputs: readonly O[], stage: BatchTransform<I, O>,
): ConsumerDefinition<I, O> {
  return {
    component: name,
    inputs: [input],
    outputs,
    close: async () => stage.close?.(),
    start: ({ pipeline, deadLetters, send, counters, sendDeadLetters }) => ({
      handle: async (batch) => {
        const letters: OutgoingMessage[] = [];
        const groups: Array<SendGroup<ConsumedMessage | null>> = [];
        const results = await stage.transformBatch(batch.records.map((d) => d.record));
        for (const [i, { message }] of batch.records.entries()) {
          const result = results[i];
          try {
            if (result instanceof Error || result === undefined) throw result ?? new Error('the transform returned no result for this record');
            // All of a record's outputs, or none of them: encode them all before queueing any.
            const encoded = result.map((output) => {
              const codec = pipeline.codecs[output.stream as O] as TopicCodec<EnrichedStream>;
              return { topic: codec.topic, message: { key: output.record.gpu_uuid, value: codec.encode(output.record) } };
            });
            if (encoded.length > 0) groups.push({ item: message, messages: encoded });
          } catch (error) {
            letters.push(deadLetters.letter(message, error, 'transform_failed'));
          }
        }
        const refused = await sendIsolating(`producing the outputs of ${batch.records.length} records`, [...groups, ...letterGroups(deadLetters.topic, letters)], send);
        refuseNoLetter(deadLetters.topic, refused);
        // A record whose output the broker refuses (too large for its topic) is dead-lettered, its original cut to fit if need be.
        const tooLarge = refused.flatMap(({ item, messages, error }) => {
          if (item === null) return [];
          const topics = [...new Set(messages.map((m) => m.topic))].join(',');
          return [deadLetters.letter(item, new GpumonError('record_too_large', `${topics} refused an output of this record: ${errorMessage(error)}`), 'record_too_large')];
        });
        await sendDeadLetters(tooLarge);
        const refusedItems = new Set(refused.map((r) => r.item));
        counters.add('sent', groups.filter((g) => !refusedItems.has(g.item)).reduce((n, g) => n + g.messages.length, 0));
      },
    }),
  };
}

export type RunningProcessor = RunningConsumer;

export async function runProcessor<I extends Stream, O extends EnrichedStream, C extends ConfigSpec>(
  definition: ProcessorDefinition<I, O, C>,
  settings: ConsumerSettings & ConfigOf<C>,
  log: Logger,
): Promise<RunningProcessor> {
  const stage = await createBatchTransform(definition, settings);
  return runConsumer(processorConsumer(definition.name, definition.input, definition.outputs, stage), settings, log);
}

import type { TopicCodec } from './avro-codec.js';
import type { Stream } from '@gpumon/schemas/topics';
import type { StreamRecords } from '@gpumon/schemas/types.generated';
import type { ConfigOf, ConfigSpec } from './config.js';
import { consumerOptions, runConsumer, type ConsumedMessage, type ConsumerDefinition, type ConsumerSettings, type RunningConsumer } from './consumer.js';
import { Counters } from './counters.js';
import { DeadLetters } from './dead-letter.js';
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

/** The component name, consumer group (`gpumon-processors`) and metrics of processors co-located on one consumer. */
export const COLOCATED_COMPONENT = 'processors';

/** The consumer settings of co-located processors: the same variables, their own default group. */
export const colocatedProcessorOptions = consumerOptions('GPUMON_PROCESSOR', { group: `gpumon-${COLOCATED_COMPONENT}`, fromBeginning: 'true' });

/** A processor's transform by the processor's name: what its dead letters and counters say. */
export interface NamedTransform<I extends Stream, O extends EnrichedStream> {
  name: string;
  transform: BatchTransform<I, O>;
}

/**
 * Runs every transform over the same decoded batch (one decode and one validation for them all):
 * per input record, in order, each transform's result in the order of `stages`. A transform that
 * refuses a record refuses it for itself alone; one that fails as a whole fails the batch, as it
 * would alone.
 */
export async function transformEach<I extends Stream, O extends EnrichedStream>(
  stages: ReadonlyArray<NamedTransform<I, O>>, records: ReadonlyArray<StreamRecords[I]>,
): Promise<Array<BatchResult<O>>> {
  const results = await Promise.all(stages.map(({ transform }) => transform.transformBatch(records)));
  return records.map((_, i) => stages.map(({ name }, s) => results[s]![i] ?? new Error(`${name} returned no result for this record`)));
}

/** Which input record, and whose transform, a group of outputs belongs to. */
interface OutputsOf {
  message: ConsumedMessage;
  stage: number;
}

/**
 * Processors as the consumer shell runs them: decoded, valid input records in, each transform's
 * outputs of a record produced (all of that transform's, or none), the record's offset committed
 * once every transform's outputs are acknowledged. A record one transform refuses is a dead letter
 * naming that processor; the others' outputs of it are still produced.
 */
function processorConsumer<I extends Stream, O extends EnrichedStream>(
  component: string, input: I, outputs: readonly O[], stages: ReadonlyArray<NamedTransform<I, O>>,
): ConsumerDefinition<I, O> {
  return {
    component,
    inputs: [input],
    outputs,
    close: async () => {
      for (const { transform } of stages) await transform.close?.();
    },
    start: (context) => {
      const { pipeline, send, sendDeadLetters } = context;
      // A processor run alone is the component; co-located, each counts and dead-letters under its own name beside the shell's.
      const own = stages.map(({ name }) => {
        if (name === component) return { counters: context.counters, deadLetters: context.deadLetters };
        const counters = new Counters(context.registry, name);
        return { counters, deadLetters: new DeadLetters(name, pipeline.codecs.dlq, counters, context.log, pipeline.deadLetterMaxBytes) };
      });
      return {
        handle: async (batch) => {
          const letters: OutgoingMessage[] = [];
          const groups: Array<SendGroup<OutputsOf | null>> = [];
          const results = await transformEach(stages, batch.records.map((d) => d.record));
          for (const { counters } of own) if (counters !== context.counters) counters.add('received', batch.records.length);
          for (const [i, { message }] of batch.records.entries()) {
            for (const [s, result] of results[i]!.entries()) {
              try {
                if (result instanceof Error) throw result;
                // All of a transform's outputs of a record, or none of them: encode them all before queueing any.
                const encoded = result.map((output) => {
                  const codec = pipeline.codecs[output.stream as O] as TopicCodec<EnrichedStream>;
                  return { topic: codec.topic, message: { key: output.record.gpu_uuid, value: codec.encode(output.record) } };
                });
                if (encoded.length > 0) groups.push({ item: { message, stage: s }, messages: encoded });
              } catch (error) {
                letters.push(own[s]!.deadLetters.letter(message, error, 'transform_failed'));
              }
            }
          }
          const refused = await sendIsolating(`producing the outputs of ${batch.records.length} records`, [...groups, ...letterGroups(context.deadLetters.topic, letters)], send);
          refuseNoLetter(context.deadLetters.topic, refused);
          // A record whose output the broker refuses (too large for its topic) is dead-lettered, its original cut to fit if need be.
          const tooLarge = refused.flatMap(({ item, messages, error }) => {
            if (item === null) return [];
            const topics = [...new Set(messages.map((m) => m.topic))].join(',');
            return [own[item.stage]!.deadLetters.letter(item.message, new GpumonError('record_too_large', `${topics} refused an output of this record: ${errorMessage(error)}`), 'record_too_large')];
          });
          await sendDeadLetters(tooLarge);
          const refusedItems = new Set(refused.map((r) => r.item));
          const sent = groups.filter((g) => g.item !== null && !refusedItems.has(g.item));
          for (const [s, { counters }] of own.entries()) counters.add('sent', sent.filter((g) => g.item!.stage === s).reduce((n, g) => n + g.messages.length, 0));
          if (!own.some(({ counters }) => counters === context.counters)) context.counters.add('sent', sent.reduce((n, g) => n + g.messages.length, 0));
        },
      };
    },
  };
}

export type RunningProcessor = RunningConsumer;

/**
 * Runs `definitions` on one consumer under `component`: one alone under its own name is
 * `gpumon process <name>`; several under COLOCATED_COMPONENT share one fetch, decode and validation
 * per record. Each transform is created from the same settings (every processor's options merged).
 */
export async function runProcessors<I extends Stream, O extends EnrichedStream, C extends ConfigSpec>(
  component: string,
  definitions: ReadonlyArray<ProcessorDefinition<I, O, C>>,
  settings: ConsumerSettings & ConfigOf<C>,
  log: Logger,
): Promise<RunningProcessor> {
  const input = definitions[0]?.input;
  if (input === undefined || definitions.some((d) => d.input !== input)) {
    throw new GpumonError('config_invalid', `processors co-located on one consumer read one stream; got ${definitions.map((d) => `${d.name} (${d.input})`).join(', ') || 'none'}`);
  }
  const stages: Array<NamedTransform<I, O>> = [];
  try {
    for (const definition of definitions) stages.push({ name: definition.name, transform: await createBatchTransform(definition, settings) });
  } catch (error) {
    for (const { transform } of stages) await transform.close?.();
    throw error;
  }
  const outputs = [...new Set(definitions.flatMap((d) => d.outputs))];
  return runConsumer(processorConsumer(component, input, outputs, stages), settings, log);
}

export async function runProcessor<I extends Stream, O extends EnrichedStream, C extends ConfigSpec>(
  definition: ProcessorDefinition<I, O, C>,
  settings: ConsumerSettings & ConfigOf<C>,
  log: Logger,
): Promise<RunningProcessor> {
  return runProcessors(definition.name, [definition], settings, log);
}

import type { Message } from 'kafkajs';
import type { Stream } from '@gpumon/schemas/topics';
import type { StreamRecords } from '@gpumon/schemas/types.generated';
import { startConsumerLoop } from './consumer-loop.js';
import { Counters } from './counters.js';
import { deadLetter } from './dead-letter.js';
import { parse } from './config.js';
import { GpumonError } from './errors.js';
import type { Logger } from './log.js';
import { openPipeline, type PipelineSettings } from './pipeline.js';
import { retryWhileRetriable } from './retry.js';

export type EnrichedStream = Exclude<Stream, 'samples' | 'dlq'>;

export interface Output<O extends EnrichedStream> {
  stream: O;
  record: StreamRecords[O];
}

/**
 * A processor is its pure transform and nothing else: every output is a function of one input
 * record plus static config, so instances scale by consumer group and a replay gives the same answer.
 */
export interface ProcessorDefinition<I extends Stream, O extends EnrichedStream> {
  name: string;
  input: I;
  outputs: readonly O[];
  transform(record: StreamRecords[I]): Array<Output<O>>;
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
} as const;

export interface ProcessorRunOptions {
  groupId?: string | undefined;
  fromBeginning: boolean;
}

export interface RunningProcessor {
  counters: Counters;
  stop(): Promise<void>;
  done: Promise<void>;
}

const isRetriable = (error: unknown): boolean => error instanceof GpumonError && error.retriable;

export async function runProcessor<I extends Stream, O extends EnrichedStream>(
  definition: ProcessorDefinition<I, O>,
  settings: PipelineSettings & ProcessorRunOptions,
  log: Logger,
): Promise<RunningProcessor> {
  const pipeline = await openPipeline(settings, definition.name, [definition.input, ...definition.outputs], log);
  const input = pipeline.codecs[definition.input];
  const counters = new Counters();
  const stopping = new AbortController();

  const running = await startConsumerLoop({
    kafka: pipeline.kafka,
    groupId: settings.groupId ?? `gpumon-${definition.name}`,
    topics: [input.topic],
    fromBeginning: settings.fromBeginning,
    log,
    handleBatch: async (batch, heartbeat) => {
      const byTopic = new Map<string, Message[]>();
      const send = (topic: string, message: Message): void => {
        const list = byTopic.get(topic);
        if (list === undefined) byTopic.set(topic, [message]);
        else list.push(message);
      };
      for (const message of batch.messages) {
        counters.received++;
        try {
          const record = await retryWhileRetriable(
            `decoding ${batch.topic}[${batch.partition}]@${message.offset}`,
            () => input.decode(message.value),
            isRetriable,
            log,
            stopping.signal,
          );
          for (const output of definition.transform(record)) {
            const codec = pipeline.codecs[output.stream];
            const key = (output.record as { gpu_uuid: string }).gpu_uuid;
            send(codec.topic, { key, value: codec.encode(output.record) });
          }
        } catch (error) {
          if (isRetriable(error)) throw error;
          counters.errored++;
          const letter = deadLetter(definition.name, batch.topic, batch.partition, message, error, 'transform_failed');
          log.warn('sent to dead-letter topic', {
            topic: batch.topic, partition: batch.partition, offset: message.offset, reason: letter.error_message,
          });
          send(pipeline.codecs.dlq.topic, { key: message.key, value: pipeline.codecs.dlq.encode(letter) });
        }
      }
      const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
      await retryWhileRetriable(
        `producing ${batch.messages.length} inputs' outputs`,
        () => pipeline.producer.sendBatch({ topicMessages, acks: -1 }),
        () => true,
        log,
        stopping.signal,
      );
      for (const { messages } of topicMessages) counters.sent += messages.length;
      await heartbeat();
    },
  });

  const stop = async (): Promise<void> => {
    stopping.abort();
    await running.stop();
    await pipeline.close();
    log.info('stopped', counters.snapshot());
  };
  return { counters, stop, done: running.done };
}

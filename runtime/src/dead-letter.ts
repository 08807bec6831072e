import type { Batch, KafkaMessage, Message } from 'kafkajs';
import type { DlqHeader } from '@gpumon/schemas/dlq-headers';
import type { DeadLetter } from '@gpumon/schemas/types.generated';
import type { TopicCodec } from './avro-codec.js';
import type { Counters } from './counters.js';
import { GpumonError, errorMessage } from './errors.js';
import type { Logger } from './log.js';
import { retryWhileRetriable } from './retry.js';

export const isRetriable = (error: unknown): boolean => error instanceof GpumonError && error.retriable;

/** Turns the messages a component gives up on into gpu.dlq.v1 records: the whole original and the reason. */
export class DeadLetters {
  constructor(
    private readonly component: string,
    private readonly codec: TopicCodec<'dlq'>,
    private readonly counters: Counters,
    private readonly log: Logger,
  ) {}

  get topic(): string {
    return this.codec.topic;
  }

  letter(batch: Pick<Batch, 'topic' | 'partition'>, message: KafkaMessage, error: unknown, fallbackCode: string): Message {
    this.counters.add('errored');
    const record: DeadLetter = {
      time: Date.now(),
      component: this.component,
      source_topic: batch.topic,
      source_partition: batch.partition,
      source_offset: Number(message.offset),
      key: message.key ?? null,
      value: message.value ?? null,
      error_code: error instanceof GpumonError ? error.code : fallbackCode,
      error_message: errorMessage(error),
    };
    this.log.warn('sent to dead-letter topic', {
      topic: batch.topic, partition: batch.partition, offset: message.offset, reason: record.error_message,
    });
    // The same facts as headers, so a consumer can route or count dead letters without decoding them.
    const headers: Record<DlqHeader, string> = {
      'gpumon.component': this.component,
      'gpumon.source.topic': batch.topic,
      'gpumon.source.partition': String(batch.partition),
      'gpumon.source.offset': message.offset,
      'gpumon.error.code': record.error_code,
      'gpumon.error.message': record.error_message,
    };
    return { key: message.key, value: this.codec.encode(record), headers };
  }
}

export interface DecodedBatch<T> {
  decoded: Array<{ message: KafkaMessage; record: T }>;
  letters: Message[];
}

/**
 * Decodes (and, given `validate`, checks) a batch: a registry outage is waited out (retried until
 * `signal` aborts), a message that cannot be decoded or is impossible becomes a dead letter and
 * the rest go on.
 */
export async function decodeBatch<T>(
  batch: Batch,
  decode: (value: Buffer | null) => Promise<T>,
  deadLetters: DeadLetters,
  counters: Counters,
  log: Logger,
  signal: AbortSignal,
  validate?: (record: T, message: KafkaMessage) => void,
): Promise<DecodedBatch<T>> {
  const result: DecodedBatch<T> = { decoded: [], letters: [] };
  for (const message of batch.messages) {
    counters.add('received');
    try {
      const record = await retryWhileRetriable(
        `decoding ${batch.topic}[${batch.partition}]@${message.offset}`, () => decode(message.value), isRetriable, log, signal,
      );
      validate?.(record, message);
      result.decoded.push({ message, record });
    } catch (error) {
      if (isRetriable(error)) throw error;
      result.letters.push(deadLetters.letter(batch, message, error, 'decode_failed'));
    }
  }
  return result;
}

import { createHash } from 'node:crypto';
import type { DlqHeader } from '@gpumon/schemas/dlq-headers';
import type { DeadLetter } from '@gpumon/schemas/types.generated';
import type { Decode, TopicCodec } from './avro-codec.js';
import type { ConsumedMessage } from './consumer.js';
import type { Counters } from './counters.js';
import { GpumonError, errorMessage } from './errors.js';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES } from './kafka.js';
import type { Logger } from './log.js';
import { retryWhileRetriable } from './retry.js';
import type { OutgoingMessage } from './send.js';


export const isRetriable = (error: unknown): boolean => error instanceof GpumonError && error.retriable;

/**
 * What a record batch of one record adds to its key, value and headers: the batch header (61
 * bytes), the record's varints, each header's lengths; and the room value_length and
 * value_sha256 take once set.
 */
const LETTER_OVERHEAD_BYTES = 256;
/** The longest reason kept: a dead letter stays readable and small whatever the error said. */
const MAX_REASON_CHARS = 4096;
/** The longest key kept; a GPU UUID is 40 characters, a hostile key may be as large as the limit. */
const MAX_KEY_BYTES = 1024;

/**
 * Turns the messages a component gives up on into gpu.dlq.v1 records: the whole original and the
 * reason. A dead letter always fits the dead-letter topic's `maxBytes`: an original too large
 * keeps only its first bytes, with its length and SHA-256, so the letter is never refused in turn.
 */
export class DeadLetters {
  constructor(
    private readonly component: string,
    private readonly codec: TopicCodec<'dlq'>,
    private readonly counters: Counters,
    private readonly log: Logger,
    private readonly maxBytes = KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
  ) {}

  get topic(): string {
    return this.codec.topic;
  }

  /**
   * The letter of a record this component made and the broker refused (too large, invalid): it
   * was never written, so its partition and offset are -1.
   */
  unsent(topic: string, message: OutgoingMessage, error: unknown, fallbackCode: string): OutgoingMessage {
    const key = typeof message.key === 'string' ? Buffer.from(message.key) : (message.key ?? null);
    const value = typeof message.value === 'string' ? Buffer.from(message.value) : message.value;
    return this.letter({ topic, partition: -1, offset: '-1', key, value, timestamp: String(Date.now()), headers: {} }, error, fallbackCode);
  }

  letter(message: ConsumedMessage, error: unknown, fallbackCode: string): OutgoingMessage {
    const key = message.key === null || message.key.length <= MAX_KEY_BYTES ? message.key : message.key.subarray(0, MAX_KEY_BYTES);
    const reason = errorMessage(error).slice(0, MAX_REASON_CHARS);
    const code = error instanceof GpumonError ? error.code : fallbackCode;
    this.counters.deadLettered(code);
    const record: DeadLetter = {
      time: Date.now(),
      component: this.component,
      source_topic: message.topic,
      source_partition: message.partition,
      source_offset: Number(message.offset),
      key,
      value: message.value,
      error_code: code,
      error_message: key === message.key ? reason : `${reason} (key cut from ${message.key?.length} bytes)`,
      value_length: null,
      value_sha256: null,
    };
    this.log.warn('sent to dead-letter topic', {
      topic: message.topic, partition: message.partition, offset: message.offset, reason: record.error_message,
    });
    // The same facts as headers, so a consumer can route or count dead letters without decoding them.
    const headers: Record<DlqHeader, string> = {
      'gpumon.component': this.component,
      'gpumon.source.topic': message.topic,
      'gpumon.source.partition': String(message.partition),
      'gpumon.source.offset': message.offset,
      'gpumon.error.code': record.error_code,
      'gpumon.error.message': record.error_message,
    };
    const headerBytes = Object.entries(headers).reduce((sum, [k, v]) => sum + k.length + Buffer.byteLength(v), 0);
    let value = this.codec.encode(record);
    const over = value.length + headerBytes + (key?.length ?? 0) + LETTER_OVERHEAD_BYTES - this.maxBytes;
    if (over > 0 && message.value !== null) {
      const original = message.value;
      value = this.codec.encode({
        ...record,
        value: original.subarray(0, Math.max(0, original.length - over)),
        value_length: original.length,
        value_sha256: createHash('sha256').update(original).digest('hex'),
      });
    }
    return { key, value, headers };
  }
}

export interface DecodedMessages<T> {
  decoded: Array<{ message: ConsumedMessage; record: T }>;
  letters: OutgoingMessage[];
}

/**
 * Decodes and checks the messages of one batch: a registry outage is waited out (retried until
 * `signal` aborts), a message that cannot be decoded or is impossible becomes a dead letter and
 * the rest go on.
 */
export async function decodeMessages<T>(
  messages: readonly ConsumedMessage[],
  decode: Decode<T>,
  deadLetters: DeadLetters,
  counters: Counters,
  log: Logger,
  signal: AbortSignal,
  validate: (record: T, message: ConsumedMessage) => void,
): Promise<DecodedMessages<T>> {
  const result: DecodedMessages<T> = { decoded: [], letters: [] };
  // Once per batch: a labelled counter hashes its labels on every call.
  counters.add('received', messages.length);
  for (const message of messages) {
    try {
      const decoded = decode(message.value);
      const record = decoded instanceof Promise ? await decodeFetchingSchema(message, decoded, decode, log, signal) : decoded;
      validate(record, message);
      result.decoded.push({ message, record });
    } catch (error) {
      if (isRetriable(error)) throw error;
      result.letters.push(deadLetters.letter(message, error, 'decode_failed'));
    }
  }
  return result;
}

/** A record whose writer schema is being fetched: a registry outage is waited out, retried until `signal` aborts. */
async function decodeFetchingSchema<T>(
  message: ConsumedMessage, first: Promise<T>, decode: Decode<T>, log: Logger, signal: AbortSignal,
): Promise<T> {
  try {
    return await first;
  } catch (error) {
    if (!isRetriable(error)) throw error;
  }
  return retryWhileRetriable(`decoding ${message.topic}[${message.partition}]@${message.offset}`, async () => decode(message.value), isRetriable, log, signal);
}

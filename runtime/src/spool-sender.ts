import { setTimeout as sleep } from 'node:timers/promises';
import type { Producer } from 'kafkajs';
import { errorMessage } from './errors.js';
import type { Logger } from './log.js';
import { backoffDelayMs } from './retry.js';
import type { Spool, SpooledMessage, SpoolSegment } from './spool.js';

/**
 * Payload bytes of one send. The broker refuses a partition's batch over the topic's
 * max.message.bytes (1 MiB by default); a send never holds more than this across all its
 * partitions, so no batch of it does, with room for Kafka's per-record overhead.
 */
const FIRST_SEND_BYTES = 900 * 1024;

/** The broker refused a record or batch as larger than the topic's max.message.bytes. */
export function isRecordTooLarge(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const type = (cause as { type?: unknown }).type;
    if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') return true;
  }
  return false;
}

export interface SpoolSenderEvents {
  sent(messages: number): void;
  /** A message the broker refuses even alone, as larger than the topic allows: it can never be sent. */
  refused(message: SpooledMessage, error: unknown): void;
}

/**
 * Drains a spool into one Kafka topic, oldest segment first, acknowledging a segment only once
 * Kafka has acknowledged all of it (acks=all). While Kafka is unreachable it backs off and the
 * spool grows; a failed producer is dropped and a new one connected for the next attempt. A
 * segment goes in sends of at most `sendBytes`; a send the broker finds too large is halved, and
 * a single message too large is given up (reported), so one oversized record never holds the spool.
 */
export class SpoolSender {
  private producer: Producer | undefined;
  private wakeUp: (() => void) | undefined;
  /** Messages of the current segment Kafka has acknowledged: a retry sends only the rest. */
  private progress = { seq: -1, sent: 0 };
  private sendBytes = FIRST_SEND_BYTES;

  constructor(
    private readonly spool: Spool,
    private readonly topic: string,
    private readonly connect: () => Promise<Producer>,
    private readonly log: Logger,
    private readonly events: SpoolSenderEvents,
  ) {}

  /** Tells the sender a new segment is there. */
  wake(): void {
    this.wakeUp?.();
  }

  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const segment = this.spool.peek();
        if (segment === undefined) {
          await this.nextSegment(signal);
          continue;
        }
        this.producer ??= await this.connect();
        await this.sendSegment(this.producer, segment);
        this.spool.acknowledge(segment.seq);
        if (failures > 0) this.log.info('Kafka is back; sending the spool', { spooled: this.spool.stats().messages });
        failures = 0;
      } catch (error) {
        const delay = backoffDelayMs(failures++);
        this.log.warn('cannot send to Kafka; keeping samples in the spool', {
          topic: this.topic, spooled: this.spool.stats().messages, retry_in_ms: delay, error: errorMessage(error),
        });
        await this.producer?.disconnect().catch(() => undefined);
        this.producer = undefined;
        await sleep(delay, undefined, { signal }).catch(() => undefined);
      }
    }
    await this.producer?.disconnect().catch(() => undefined);
  }

  /** Waits for `wake` or the stop. */
  private async nextSegment(signal: AbortSignal): Promise<void> {
    // One abort listener per wait, removed after it: the spool empties every round, for the agent's lifetime.
    const stop = new AbortController();
    await new Promise<void>((resolve) => {
      this.wakeUp = resolve;
      signal.addEventListener('abort', () => resolve(), { once: true, signal: stop.signal });
    });
    stop.abort();
    this.wakeUp = undefined;
  }

  private async sendSegment(producer: Producer, segment: SpoolSegment): Promise<void> {
    if (this.progress.seq !== segment.seq) this.progress = { seq: segment.seq, sent: 0 };
    while (this.progress.sent < segment.messages.length) {
      const part = nextSend(segment.messages, this.progress.sent, this.sendBytes);
      try {
        await producer.send({ topic: this.topic, acks: -1, messages: part });
        this.events.sent(part.length);
      } catch (error) {
        if (!isRecordTooLarge(error)) throw error;
        if (part.length > 1) {
          this.sendBytes = Math.max(1, Math.floor(payloadBytes(part) / 2));
          this.log.warn('Kafka refused a send as too large; sending smaller ones', { topic: this.topic, send_bytes: this.sendBytes });
          continue;
        }
        this.events.refused(part[0]!, error);
      }
      this.progress.sent += part.length;
    }
  }
}

/** The messages from `from` on that fit in `maxBytes` together; at least one. */
function nextSend(messages: readonly SpooledMessage[], from: number, maxBytes: number): SpooledMessage[] {
  let end = from + 1;
  let bytes = payloadBytes([messages[from]!]);
  while (end < messages.length) {
    bytes += payloadBytes([messages[end]!]);
    if (bytes > maxBytes) break;
    end++;
  }
  return messages.slice(from, end);
}

function payloadBytes(messages: readonly SpooledMessage[]): number {
  return messages.reduce((sum, m) => sum + m.key.length + m.value.length, 0);
}

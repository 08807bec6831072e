import { setTimeout as sleep } from 'node:timers/promises';
import type { Producer } from 'kafkajs';
import { errorMessage } from './errors.js';
import type { Logger } from './log.js';
import { backoffDelayMs } from './retry.js';
import type { Spool } from './spool.js';

/**
 * Drains a spool into one Kafka topic, oldest segment first, acknowledging a segment only once
 * Kafka has acknowledged all of it (acks=all). While Kafka is unreachable it backs off and the
 * spool grows; a failed producer is dropped and a new one connected for the next attempt.
 */
export class SpoolSender {
  private producer: Producer | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly spool: Spool,
    private readonly topic: string,
    private readonly connect: () => Promise<Producer>,
    private readonly log: Logger,
    private readonly onSent: (messages: number) => void,
  ) {}

  /** Tells the sender a new segment is there. */
  wake(): void {
    this.wakeUp?.();
  }

  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const segment = this.spool.peek();
      if (segment === undefined) {
        // One abort listener per wait, removed after it: the spool empties every round, for the agent's lifetime.
        const stop = new AbortController();
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true, signal: stop.signal });
        });
        stop.abort();
        this.wakeUp = undefined;
        continue;
      }
      try {
        this.producer ??= await this.connect();
        await this.producer.send({ topic: this.topic, acks: -1, messages: segment.messages });
        this.spool.acknowledge(segment.seq);
        this.onSent(segment.messages.length);
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
}

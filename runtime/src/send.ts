import { GpumonError, errorMessage } from './errors.js';
import { classifySendError, isRetriableSend } from './kafka-errors.js';
import type { Logger } from './log.js';
import type { Pauses } from './pauses.js';
import { DEFAULT_BACKOFF, retryWhileRetriable } from './retry.js';

/** A message to send, in runtime's terms (a dead letter, an output record, a sample): what gpumon sets of a Kafka record. */
export interface OutgoingMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string | Array<Buffer | string> | undefined>;
}

/** Messages that are sent together or not at all: one input record's outputs, one dead letter. */
export interface SendGroup<T> {
  item: T;
  messages: Array<{ topic: string; message: OutgoingMessage }>;
}

/** What a send asks of a producer (runtime's seam: createProducer's kafkajs producer is one). */
export interface BatchProducer {
  sendBatch(batch: { topicMessages: Array<{ topic: string; messages: OutgoingMessage[] }>; acks: number }): Promise<unknown>;
}

export interface SendContext {
  producer: BatchProducer;
  log: Logger;
  signal: AbortSignal;
  pauses: Pauses;
}

/**
 * Sends `groups` in one request (acks=all), waiting out what time or an operator fixes (paused,
 * retried until it succeeds). When the broker refuses records themselves (too large, invalid), the
 * groups are sent in halves down to the ones refused, which are returned with the broker's error,
 * so one bad record cannot hold its partition; the others are sent. A half sent again after such a
 * refusal may repeat records another partition already took: the delivery is at least once.
 */
export async function sendIsolating<T>(what: string, groups: ReadonlyArray<SendGroup<T>>, context: SendContext): Promise<Array<SendGroup<T> & { error: unknown }>> {
  const byTopic = new Map<string, OutgoingMessage[]>();
  for (const { topic, message } of groups.flatMap((g) => g.messages)) {
    const list = byTopic.get(topic) ?? [];
    list.push(message);
    byTopic.set(topic, list);
  }
  if (byTopic.size === 0) return [];
  const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  try {
    await retryWhileRetriable(what, () => context.producer.sendBatch({ topicMessages, acks: -1 }), isRetriableSend, context.log, context.signal, DEFAULT_BACKOFF, context.pauses);
    return [];
  } catch (error) {
    if (classifySendError(error).kind !== 'record' || context.signal.aborted) throw error;
    if (groups.length === 1) return [{ ...groups[0]!, error }];
  }
  const half = Math.ceil(groups.length / 2);
  return [...await sendIsolating(what, groups.slice(0, half), context), ...await sendIsolating(what, groups.slice(half), context)];
}

/** Dead letters as send groups, one each: a letter is cut to fit its topic, so none is refused while the topic's limit stands. */
export function letterGroups(topic: string, letters: readonly OutgoingMessage[]): Array<SendGroup<null>> {
  return letters.map((message) => ({ item: null, messages: [{ topic, message }] }));
}

/**
 * Throws when the broker refused a dead letter: its topic's limit shrank below what it was at
 * start, and a restart (which reads it again) replays the batch rather than losing the letter.
 */
export function refuseNoLetter(topic: string, refused: ReadonlyArray<{ item: unknown; error: unknown }>): void {
  const letter = refused.find((r) => r.item === null);
  if (letter !== undefined) throw new GpumonError('record_too_large', `${topic} refused a dead letter cut to its size limit: ${errorMessage(letter.error)}`);
}

/** Sends dead letters, each cut to fit: retried while time or an operator can fix the send. */
export async function sendDeadLetters(topic: string, letters: readonly OutgoingMessage[], context: SendContext): Promise<void> {
  refuseNoLetter(topic, await sendIsolating(`sending ${letters.length} dead letters`, letterGroups(topic, letters), context));
}

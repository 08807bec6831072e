import { randomBytes } from 'node:crypto';
import type { Pipeline } from './pipeline.js';

export interface ReadFromStartOptions {
  /** The throw-away group is this, a dash and random hex. */
  groupPrefix: string;
  /** Keep reading past the ends the topic had at the start, until `signal` aborts. */
  follow: boolean;
  signal: AbortSignal;
}

/**
 * Reads `topic` from its start with a throw-away consumer group that commits nothing, handing each
 * record's value to `onValue`, oldest first per partition, until every partition's end as it was
 * at the start is reached (with `follow`, until `signal` aborts) or `onValue` answers false.
 */
export async function readFromStart(
  pipeline: Pick<Pipeline<never>, 'kafka'>,
  topic: string,
  options: ReadFromStartOptions,
  onValue: (value: Buffer | null) => Promise<boolean>,
): Promise<void> {
  const admin = pipeline.kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  await admin.disconnect();
  const pending = new Set([...ends].filter(([, high]) => high > 0).map(([partition]) => partition));
  if (pending.size === 0 && !options.follow) return;

  const consumer = pipeline.kafka.consumer({ groupId: `${options.groupPrefix}-${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    options.signal.addEventListener('abort', () => resolve(), { once: true });
    consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const more = await onValue(message.value);
        if (Number(message.offset) + 1 >= (ends.get(partition) ?? 0)) pending.delete(partition);
        if ((!options.follow && pending.size === 0) || !more) resolve();
      },
    }).catch(reject);
  });
  await consumer.disconnect();
}

import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { TopicCodec } from '@gpumon/runtime/avro-codec';
import { parse } from '@gpumon/runtime/config';
import type { DeadLetter } from '@gpumon/schemas/types.generated';

export const dlqInspectOptions = {
  follow: {
    env: 'GPUMON_DLQ_FOLLOW', flag: 'follow', default: 'false', example: 'true', switch: true,
    description: 'Keep printing dead letters as they arrive, until Ctrl-C.', schema: parse.boolean(),
  },
  limit: {
    env: 'GPUMON_DLQ_LIMIT', flag: 'limit', default: '100', example: '10',
    description: 'Print at most this many dead letters.', schema: parse.int(1),
  },
} as const;

/** A dead letter as a few readable lines: when, who, where from, why, and what the bytes were. */
export function formatDeadLetter(letter: DeadLetter): string {
  const preview = (bytes: Buffer | null): string => {
    if (bytes === null) return '(null)';
    const printable = /^[\x20-\x7e\t\r\n]*$/.test(bytes.toString('latin1'));
    const shown = printable ? JSON.stringify(bytes.subarray(0, 120).toString('utf8')) : `0x${bytes.subarray(0, 48).toString('hex')}`;
    return `${shown}${bytes.length > (printable ? 120 : 48) ? ' …' : ''} (${bytes.length} bytes)`;
  };
  return [
    `${new Date(letter.time).toISOString()}  ${letter.component}  ${letter.source_topic}[${letter.source_partition}]@${letter.source_offset}`,
    `  error  ${letter.error_code}: ${letter.error_message}`,
    `  key    ${preview(letter.key)}`,
    `  value  ${preview(letter.value)}${letter.value_length === null ? '' : ` cut from ${letter.value_length} bytes, sha256 ${letter.value_sha256}`}`,
  ].join('\n');
}

/**
 * Prints the dead letters that are on the topic now (or, with `follow`, also those still to come),
 * oldest first per partition, reading with a throw-away consumer group that commits nothing.
 */
export async function inspectDeadLetters(kafka: Kafka, codec: TopicCodec<'dlq'>, options: { follow: boolean; limit: number }, signal: AbortSignal): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(codec.topic)).map((o) => [o.partition, Number(o.high)]));
  await admin.disconnect();
  const pending = new Set([...ends].filter(([, high]) => high > 0).map(([partition]) => partition));
  if (pending.size === 0 && !options.follow) return 0;

  const consumer = kafka.consumer({ groupId: `gpumon-dlq-inspect-${randomBytes(4).toString('hex')}` });
  let shown = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: codec.topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    signal.addEventListener('abort', () => resolve(), { once: true });
    consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (shown < options.limit) {
          console.log(formatDeadLetter(await codec.decode(message.value)));
          shown++;
        }
        if (Number(message.offset) + 1 >= (ends.get(partition) ?? 0)) pending.delete(partition);
        if ((!options.follow && pending.size === 0) || shown >= options.limit) resolve();
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return shown;
}

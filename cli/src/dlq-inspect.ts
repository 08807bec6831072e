import type { TopicCodec } from '@gpumon/runtime/avro-codec';
import { parse } from '@gpumon/runtime/config';
import type { Pipeline } from '@gpumon/runtime/pipeline';
import { readFromStart } from '@gpumon/runtime/read-topic';
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
export async function inspectDeadLetters(pipeline: Pick<Pipeline<never>, 'kafka'>, codec: TopicCodec<'dlq'>, options: { follow: boolean; limit: number }, signal: AbortSignal): Promise<number> {
  let shown = 0;
  await readFromStart(pipeline, codec.topic, { groupPrefix: 'gpumon-dlq-inspect', follow: options.follow, signal }, async (value) => {
    if (shown < options.limit) {
      console.log(formatDeadLetter(await codec.decode(value)));
      shown++;
    }
    return shown < options.limit;
  });
  return shown;
}

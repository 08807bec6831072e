import { schemaOf, type AvroType } from '@gpumon/schemas/avro';
import type { Stream } from '@gpumon/schemas/topics';

/** Every stream the sink writes, with its table. */
export const TABLES: Array<[Exclude<Stream, 'dlq'>, string]> = [
  ['samples', 'gpu_samples'], ['health', 'gpu_health'], ['anomalies', 'gpu_anomalies'], ['economics', 'gpu_economics'],
  ['predictions', 'gpu_predictions'], ['alerts', 'gpu_alerts'],
];

function isLong(type: AvroType): boolean {
  if (Array.isArray(type)) return type.some(isLong);
  return type === 'long';
}

/**
 * A row as node-postgres returns it, in the shape of the stream's Avro record: timestamptz back
 * to epoch milliseconds and bigint (which pg returns as text) back to a number.
 */
export function rowToRecord(stream: Stream, row: Record<string, unknown>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const field of schemaOf(stream).fields) {
    const value = row[field.name];
    if (value instanceof Date) record[field.name] = value.getTime();
    else if (value !== null && isLong(field.type)) record[field.name] = Number(value);
    else record[field.name] = value;
  }
  return record;
}

export function byGpuAndTime(a: { gpu_uuid?: unknown; time?: unknown }, b: { gpu_uuid?: unknown; time?: unknown }): number {
  return String(a.gpu_uuid).localeCompare(String(b.gpu_uuid)) || Number(a.time) - Number(b.time);
}

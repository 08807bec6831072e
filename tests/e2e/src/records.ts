import { schemaOf, type AvroType } from '@gpumon/schemas/avro';
import type { Stream } from '@gpumon/schemas/topics';
import { childTablesOf } from '@gpumon/sink-timescaledb/child-tables';

/** Every stream the sink writes, with its table. */
export const TABLES: Array<[Exclude<Stream, 'dlq'>, string]> = [
  ['samples', 'gpu_samples'], ['health', 'gpu_health'], ['anomalies', 'gpu_anomalies'], ['economics', 'gpu_economics'],
  ['predictions', 'gpu_predictions'], ['alerts', 'gpu_alerts'],
];

function isLong(type: AvroType): boolean {
  if (Array.isArray(type)) return type.some(isLong);
  return type === 'long';
}

/** The fields of a stream the sink writes to child tables of their own (gpu_workload_samples, …), not to the stream's table. */
function childFields(stream: Stream): Set<string> {
  return new Set(stream === 'dlq' ? [] : childTablesOf(stream).map((child) => child.field));
}

/** What of `record` its table holds: the record without the fields that go to child tables. */
export function storedRecord(stream: Stream, record: object): Record<string, unknown> {
  const children = childFields(stream);
  return Object.fromEntries(Object.entries(record).filter(([name]) => !children.has(name)));
}

/**
 * A row as node-postgres returns it, in the shape of the stream's Avro record as its table holds
 * it (storedRecord): timestamptz back to epoch milliseconds and bigint (which pg returns as text) back to a number.
 */
export function rowToRecord(stream: Stream, row: Record<string, unknown>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  const children = childFields(stream);
  for (const field of schemaOf(stream).fields.filter((f) => !children.has(f.name))) {
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

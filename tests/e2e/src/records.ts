import { schemaOf, type AvroType } from '@gpumon/schemas/avro';
import type { Stream } from '@gpumon/schemas/topics';
import { tableOf } from '@gpumon/sink-timescaledb/tables';

/** Every stream the sink writes, with its table. */
export const TABLES: Array<[Exclude<Stream, 'dlq'>, string]> = [
  ['samples', 'gpu_samples'], ['health', 'gpu_health'], ['anomalies', 'gpu_anomalies'], ['economics', 'gpu_economics'],
  ['predictions', 'gpu_predictions'], ['alerts', 'gpu_alerts'],
];

function isLong(type: AvroType): boolean {
  if (Array.isArray(type)) return type.some(isLong);
  return type === 'long';
}

/** The fields of a stream its table holds as columns: not those of child tables, nor (samples) the GPU's description or the features. */
function columnsOf(stream: Stream): Set<string> {
  return new Set(stream === 'dlq' ? schemaOf(stream).fields.map((f) => f.name) : tableOf(stream).columns.map((c) => c.name));
}

/** What of `record` its table holds. */
export function storedRecord(stream: Stream, record: object): Record<string, unknown> {
  const columns = columnsOf(stream);
  return Object.fromEntries(Object.entries(record).filter(([name]) => columns.has(name)));
}

/**
 * A row as node-postgres returns it, in the shape of the stream's Avro record as the row holds it
 * (a table's row: storedRecord; samples joined with gpu_devices: their description too):
 * timestamptz back to epoch milliseconds and bigint (which pg returns as text) back to a number.
 */
export function rowToRecord(stream: Stream, row: Record<string, unknown>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const field of schemaOf(stream).fields.filter((f) => f.name in row)) {
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

/** Tables that name no host: their GPU's gpu_devices row does (gpu_samples since migration 0014). */
const HOSTLESS = new Set(['gpu_samples', 'gpu_workload_samples', 'gpu_workload_costs']);

/** The condition on `table`'s rows whose GPU is on a host `test` matches (`LIKE $1`, `= $1`). */
export function ofHosts(table: string, test: string): string {
  return HOSTLESS.has(table) ? `gpu_uuid IN (SELECT gpu_uuid FROM gpu_devices WHERE hostname ${test})` : `hostname ${test}`;
}

import { schemaOf, type AvroType } from '@gpumon/schemas/avro';
import type { Stream } from '@gpumon/schemas/topics';
import { childTablesOf } from './child-tables.js';
import { DEVICE_FIELDS } from './devices.js';

export type SinkStream = Exclude<Stream, 'dlq'>;

/** How a field's value is written in COPY text format. */
export type ColumnKind = 'timestamp' | 'json' | 'scalar';

export interface Column {
  name: string;
  kind: ColumnKind;
}

export interface Table {
  stream: SinkStream;
  name: string;
  columns: Column[];
}

export const TABLE_NAMES: Record<SinkStream, string> = {
  samples: 'gpu_samples',
  health: 'gpu_health',
  anomalies: 'gpu_anomalies',
  predictions: 'gpu_predictions',
  economics: 'gpu_economics',
  alerts: 'gpu_alerts',
};

function kindOf(type: AvroType): ColumnKind {
  if (Array.isArray(type)) return kindOf(type.find((t) => t !== 'null') ?? 'null');
  if (typeof type === 'string') return 'scalar';
  if ('logicalType' in type && type.logicalType === 'timestamp-millis') return 'timestamp';
  return type.type === 'array' || type.type === 'map' || type.type === 'record' ? 'json' : 'scalar';
}

/**
 * The fields the sink stores nowhere, so it does not decode them: the samples' rolling-window
 * features (46 values that change every reading and are a function of the readings; migration 0014).
 */
export const NOT_STORED: { readonly [S in SinkStream]?: readonly string[] } = { samples: ['features'] };

/**
 * The sample fields gpu_samples does not hold besides the child tables': what describes the GPU
 * goes to gpu_devices and gpu_device_configs (0014), and NOT_STORED.
 */
const NOT_COLUMNS: Partial<Record<SinkStream, readonly string[]>> = { samples: [...DEVICE_FIELDS, ...NOT_STORED.samples!] };

/**
 * The table of a stream: one column per top-level Avro field, same name, in schema order, but for
 * the fields written to child tables of their own (child-tables.ts) and NOT_COLUMNS.
 */
export function tableOf(stream: SinkStream): Table {
  const skipped = new Set([...childTablesOf(stream).map((child) => child.field), ...(NOT_COLUMNS[stream] ?? [])]);
  return {
    stream,
    name: TABLE_NAMES[stream],
    columns: schemaOf(stream).fields.filter((field) => !skipped.has(field.name)).map((field) => ({ name: field.name, kind: kindOf(field.type) })),
  };
}

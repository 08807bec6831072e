import { readFileSync } from 'node:fs';
import { TOPICS, type Stream } from './topics.js';

/** The .avsc files sit beside src/ and dist/, so this resolves the same from source and from the build. */
const AVRO_DIR = new URL('../avro/', import.meta.url);

export interface AvroField {
  name: string;
  type: AvroType;
  doc?: string;
  default?: unknown;
}
export interface AvroRecord {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  fields: AvroField[];
}
export type AvroType =
  | string
  | AvroType[]
  | AvroRecord
  | { type: 'enum'; name: string; symbols: string[]; doc?: string }
  | { type: 'array'; items: AvroType }
  | { type: 'map'; values: AvroType }
  | { type: 'long' | 'int'; logicalType: string };

export function schemaText(stream: Stream): string {
  return readFileSync(new URL(`${TOPICS[stream]}.avsc`, AVRO_DIR), 'utf8');
}

export function schemaOf(stream: Stream): AvroRecord {
  return JSON.parse(schemaText(stream)) as AvroRecord;
}

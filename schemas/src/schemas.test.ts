import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { schemaOf, type AvroType } from './avro.js';
import { renderTypes } from './generate-types.js';
import { STREAMS, TOPICS } from './topics.js';

function undocumented(type: AvroType, path: string): string[] {
  if (typeof type === 'string') return [];
  if (Array.isArray(type)) return type.flatMap((t) => undocumented(t, path));
  if (type.type === 'record') {
    return type.fields.flatMap((f) => [
      ...(f.doc === undefined || f.doc.length < 5 ? [`${path}.${f.name}`] : []),
      ...undocumented(f.type, `${path}.${f.name}`),
    ]);
  }
  if (type.type === 'array') return undocumented(type.items, path);
  if (type.type === 'map') return undocumented(type.values, path);
  return [];
}

describe('topic schemas', () => {
  it.each(STREAMS)('%s is a valid, namespaced, fully documented Avro record', (stream) => {
    const schema = schemaOf(stream);
    expect(() => avro.Type.forSchema(schema as avro.Schema)).not.toThrow();
    expect(schema.namespace).toBe('io.gpumon.v1');
    expect(schema.doc).toMatch(/Key: /);
    expect(undocumented(schema, schema.name)).toEqual([]);
  });

  it.each(STREAMS)('%s starts with the time and the GPU UUID key, so every table shares its unique key', (stream) => {
    const names = schemaOf(stream).fields.map((f) => f.name);
    expect(names[0]).toBe('time');
    if (stream !== 'dlq') expect(names.slice(1, 3)).toEqual(['gpu_uuid', 'hostname']);
  });

  it('has one versioned topic per stream', () => {
    expect(Object.values(TOPICS)).toEqual([
      'gpu.samples.v1', 'gpu.health.v1', 'gpu.anomalies.v1', 'gpu.predictions.v1',
      'gpu.economics.v1', 'gpu.alerts.v1', 'gpu.dlq.v1',
    ]);
  });

  it('keeps the TypeScript types in step with the .avsc files (npm run generate -w @gpumon/schemas)', () => {
    const committed = readFileSync(new URL('./types.generated.ts', import.meta.url), 'utf8');
    expect(committed).toBe(renderTypes());
  });

  it('says the unit of every numeric sample field', () => {
    const missing = schemaOf('samples')
      .fields.filter((f) => /^\["null","(double|long|int)"\]$/.test(JSON.stringify(f.type)) && !/\(.+\)/.test(f.doc ?? ''))
      .map((f) => f.name);
    expect(missing).toEqual([]);
  });
});

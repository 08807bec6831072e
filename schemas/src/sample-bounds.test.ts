import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { schemaOf, type AvroType } from './avro.js';
import { withValue } from './generated-records.js';
import { RECORD_BOUNDS, recordProblems, renderBounds, SAMPLE_BOUNDS, SAMPLE_MAX_AGE_MS, type BoundedStream } from './sample-bounds.js';
import type { GpuSample } from './types.generated.js';

const NUMERIC = new Set(['int', 'long', 'float', 'double']);

/** Every numeric field of a schema, as RECORD_BOUNDS names it (`.` into records, `[]` into arrays). */
function numericPaths(type: AvroType, path: string): string[] {
  if (typeof type === 'string') return NUMERIC.has(type) ? [path] : [];
  if (Array.isArray(type)) return type.flatMap((branch) => numericPaths(branch, path));
  switch (type.type) {
    case 'record': return type.fields.flatMap((f) => numericPaths(f.type, path === '' ? f.name : `${path}.${f.name}`));
    case 'array': return numericPaths(type.items, `${path}[]`);
    case 'map': return numericPaths(type.values, `${path}{}`);
    case 'enum': return [];
    default: return NUMERIC.has(type.type) ? [path] : [];
  }
}

const captured = readdirSync(new URL('../../producers/nvidia-smi/testdata/expected/', import.meta.url))
  .flatMap((file) => (JSON.parse(readFileSync(new URL(`../../producers/nvidia-smi/testdata/expected/${file}`, import.meta.url), 'utf8')) as { samples: GpuSample[] }).samples);
/** A sample with every nested list and record filled, each in bounds. */
const full: GpuSample = {
  ...captured.find((s) => (s.processes ?? []).length > 1)!,
  mig_instances: [{ gpu_instance_id: 1, compute_instance_id: 0, mig_uuid: null, profile: '1g.10gb', memory_total_mib: 9856, memory_used_mib: 12 }],
  xid_events: [{ time: Date.UTC(2026, 0, 1), code: 79, pci_id: '0000:3b:00', message: 'fallen off the bus' }],
  features: Object.fromEntries(Object.keys(SAMPLE_BOUNDS).filter((p) => p.startsWith('features.')).map((p) => [p.slice('features.'.length), 1])) as unknown as GpuSample['features'],
  simulated_fault: { kind: 'thermal_cooling', phase: 'PRECURSOR', onset_time: Date.UTC(2026, 0, 1), failure_time: Date.UTC(2026, 0, 2) },
  workloads: [{
    workload_id: 'slurm:1', kind: 'SLURM_JOB', source: 'slurm-job-map', device_uuid: null, gpu_instance_id: 1, cluster: null, namespace: null, pod: null,
    pod_uid: null, container: null, job_id: '1', user: 'alice', account: null, partition: null, pids: [17], used_memory_mib: 10,
  }],
};
const at = (record: { time: number }): number => record.time;
const STREAMS = Object.keys(RECORD_BOUNDS) as BoundedStream[];

/**
 * A record of `stream` with one item in each list and every bounded field at its bound's middle:
 * enough for the checks, which read only the bounded paths. Samples: `full`, a real one.
 */
function filled(stream: BoundedStream): { time: number } {
  if (stream === 'samples') return full;
  const record: Record<string, unknown> = {};
  for (const [path, b] of Object.entries(RECORD_BOUNDS[stream])) {
    const steps = path.split(/\.|(?=\[\])/);
    let target = record;
    for (const [k, step] of steps.slice(0, -1).entries()) {
      if (step === '[]') continue;
      const list = steps[k + 1] === '[]';
      target[step] ??= list ? [{}] : {};
      target = (list ? (target[step] as Array<Record<string, unknown>>)[0] : target[step]) as Record<string, unknown>;
    }
    target[steps.at(-1)!] = path === 'time' ? full.time : (b.min + b.max) / 2;
  }
  return record as { time: number };
}

describe('RECORD_BOUNDS', () => {
  it('has a row for every numeric field of every stream but the DLQ, nested ones included, and none for anything else', () => {
    for (const stream of STREAMS) expect(Object.keys(RECORD_BOUNDS[stream]).sort(), stream).toEqual(numericPaths(schemaOf(stream), '').sort());
  });

  it('keeps sample-bounds.md in step with the table (npm run generate -w @gpumon/schemas)', () => {
    expect(readFileSync(new URL('../sample-bounds.md', import.meta.url), 'utf8')).toBe(renderBounds());
  });

  it('passes every captured nvidia-smi sample, and one with every list filled', () => {
    for (const sample of [...captured, full]) expect(recordProblems('samples', sample, at(sample))).toEqual([]);
  });

  it('names every absurd value of every stream, at any depth: NaN, ±Infinity, ±1e12 and anything past a bound', () => {
    const paths = STREAMS.flatMap((stream) => Object.keys(RECORD_BOUNDS[stream]).map((path) => [stream, path] as const));
    const absurd = fc.oneof(
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1e12, 1e12),
      fc.double({ noNaN: true, min: -1e300, max: 1e300 }),
    );
    fc.assert(fc.property(fc.constantFrom(...paths), absurd, ([stream, path], value) => {
      const b = RECORD_BOUNDS[stream][path]!;
      fc.pre(!(value >= b.min && value <= b.max) || !Number.isFinite(value));
      const record = withValue(filled(stream), path, value);
      expect(recordProblems(stream, record, path === 'time' ? Date.UTC(2026, 0, 1) : at(full)).join('; ')).toContain(`${path}=${value} outside [${b.min}, ${b.max}]`);
    }), { numRuns: 3000 });
  });

  it('lists every problem of a record in the table\'s order, each item of a list in its order, and skips missing values', () => {
    const sample = {
      ...full,
      gpu_index: -1,
      temperature_gpu_c: null,
      xid_events: [{ ...full.xid_events[0]!, code: 70_000 }, { ...full.xid_events[0]!, code: -2 }],
      features: { ...full.features!, power_mean_5m: Number.NaN },
      workloads: [{ ...full.workloads![0]!, pids: [-1, 7, 5_000_000] }],
    };
    expect(recordProblems('samples', sample, at(full))).toEqual([
      'gpu_index=-1 outside [0, 1023]',
      'xid_events[].code=70000 outside [0, 65535]',
      'xid_events[].code=-2 outside [0, 65535]',
      'features.power_mean_5m=NaN outside [0, 5000]',
      'workloads[].pids[]=-1 outside [0, 4194304]',
      'workloads[].pids[]=5000000 outside [0, 4194304]',
    ]);
  });

  it('passes any value within bounds, in every stream', () => {
    const paths = STREAMS.flatMap((stream) => Object.keys(RECORD_BOUNDS[stream]).filter((p) => p !== 'time').map((path) => [stream, path] as const));
    fc.assert(fc.property(fc.constantFrom(...paths), fc.double({ min: 0, max: 1, noNaN: true }), ([stream, path], share) => {
      const b = RECORD_BOUNDS[stream][path]!;
      const value = b.min + share * (b.max - b.min);
      expect(recordProblems(stream, withValue(filled(stream), path, value), at(full))).toEqual([]);
    }), { numRuns: 2000 });
  });

  it('judges the time of every stream\'s record against the message\'s own timestamp: a day of skew ahead, 395 days back', () => {
    const written = full.time;
    for (const stream of STREAMS) {
      const record = filled(stream);
      expect(recordProblems(stream, { ...record, time: written + 86_400_000 }, written), stream).toEqual([]);
      expect(recordProblems(stream, { ...record, time: written + 86_400_001 }, written), stream).toEqual([expect.stringContaining('more than a day after the message was written')]);
      expect(recordProblems(stream, { ...record, time: written - SAMPLE_MAX_AGE_MS }, written), stream).toEqual([]);
      expect(recordProblems(stream, { ...record, time: written - SAMPLE_MAX_AGE_MS - 1 }, written), stream).toEqual([expect.stringContaining('more than 395 days before')]);
    }
  });
});

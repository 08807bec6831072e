import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { schemaOf } from '@gpumon/schemas/avro';
import { hasPlaceAt, seededRandom, withValue } from '@gpumon/schemas/generated-records';
import { RECORD_BOUNDS, type BoundedStream } from '@gpumon/schemas/sample-bounds';
import type { GpuEconomics, GpuSample } from '@gpumon/schemas/types.generated';
import { TopicCodec } from './avro-codec.js';
import { GpumonError } from './errors.js';
import type { SchemaRegistryClient } from './registry.js';
import { validateRecord } from './sample-validation.js';

const T = Date.UTC(2026, 0, 1);
const sample = { time: T, gpu_uuid: 'GPU-1', hostname: 'host-1', power_draw_w: 300, features: null, processes: null, workloads: null, mig_instances: [], xid_events: [] } as unknown as GpuSample;
const economics = {
  time: T, gpu_uuid: 'GPU-1', hostname: 'host-1', product_name: null, currency: 'USD', interval_s: 10, energy_kwh: 0.004, energy_cost_micros: 600,
  allocated_cost_micros: 4000, used_cost_micros: 1000, idle_cost_micros: 3000, efficiency: 0.25, co2e_kg: 0.002, cost_per_used_gpu_hour_micros: null, workloads: [],
} as GpuEconomics;

function refusal(run: () => void): GpumonError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GpumonError);
    return error as GpumonError;
  }
  throw new Error('accepted');
}

describe('validateRecord', () => {
  it('passes a possible sample and a finite record of another stream', () => {
    validateRecord('samples', sample, T);
    validateRecord('economics', economics, T);
  });

  it('refuses a sample past its bounds, naming the GPU, the host, the field and the value', () => {
    const error = refusal(() => validateRecord('samples', { ...sample, power_draw_w: Number.NaN }, T));
    expect([error.code, error.message]).toEqual(['validation_failed', 'impossible sample from GPU GPU-1 on host-1: power_draw_w=NaN outside [0, 5000]']);
  });

  it('refuses a record of another stream past its bounds, NaN and ±Infinity included, at any depth', () => {
    const bad = {
      ...economics, efficiency: Number.POSITIVE_INFINITY, idle_cost_micros: -1,
      workloads: [{ workload_id: null, team: 't', share: Number.NaN, energy_kwh: 0, allocated_cost_micros: 0, used_cost_micros: 0, idle_cost_micros: 0 }],
    };
    const error = refusal(() => validateRecord('economics', bad, T));
    expect([error.code, error.message]).toEqual([
      'validation_failed',
      'impossible economics record from GPU GPU-1 on host-1: idle_cost_micros=-1 outside [0, 1000000000000000]; efficiency=Infinity outside [0, 1]; workloads[].share=NaN outside [0, 1]',
    ]);
  });

  it('refuses a record of another stream stamped far from its message', () => {
    const error = refusal(() => validateRecord('economics', economics, T + 400 * 86_400_000));
    expect(error.message).toMatch(/^impossible economics record from GPU GPU-1 on host-1: time 2026-01-01T00:00:00.000Z is more than 395 days before/);
  });
});

/** Each stream's codec under an id of its own (no registry is asked), and avsc's type of its schema, for the generator. */
const STREAMS = (Object.keys(RECORD_BOUNDS) as BoundedStream[]).map((stream) => {
  const codec = new TopicCodec(undefined as unknown as SchemaRegistryClient, stream);
  codec.assumeRegistered(7);
  return { stream, codec, type: avro.Type.forSchema(schemaOf(stream) as avro.Schema) };
});

const AVSC_MAX_LONG = 2 ** 53 - 2;

/**
 * A schema-valid record of any stream from avsc's generator (random lists, nulls, strings, numbers
 * anywhere in their Avro range), every bounded number then put at its bound's minimum, maximum or
 * middle: what may be true, at the edges.
 */
const possible = fc.record({ at: fc.nat({ max: STREAMS.length - 1 }), seed: fc.integer(), edge: fc.nat() }).map(({ at, seed, edge }) => {
  const { stream, codec, type } = STREAMS[at]!;
  let record = seededRandom<{ time: number }>(type, seed);
  for (const [k, [path, b]] of Object.entries(RECORD_BOUNDS[stream]).entries()) {
    // avsc's longs end at ±(2^53 − 2): the top of a counter's bound is no encodable record.
    const max = Math.min(b.max, AVSC_MAX_LONG);
    record = withValue(record, path, [b.min, max, Math.floor((b.min + max) / 2)][(edge + k) % 3]!);
  }
  return { stream, codec, type, record };
});

/** The frame of `record` through its codec and back, validated against its own time as the message's. */
async function roundTrip(codec: TopicCodec<BoundedStream>, record: { time: number }): Promise<void> {
  const decoded = await codec.decode(codec.encode(record as never));
  validateRecord(codec.stream, decoded, (decoded as { time: number }).time);
}

describe('validateRecord on generated records (property tests)', () => {
  it('passes every schema-valid record of every stream whose numbers lie within their bounds, edges included', async () => {
    await fc.assert(fc.asyncProperty(possible, async ({ type, codec, record }) => {
      expect(type.isValid(record)).toBe(true);
      await roundTrip(codec, record);
    }), { numRuns: 600 });
  });

  it('refuses such a record with any one bounded number made absurd, as validation_failed naming the field and value, after the codec\'s round trip', async () => {
    await fc.assert(fc.asyncProperty(possible, fc.nat(), fc.nat(), async ({ stream, type, codec, record }, pick, which) => {
      const paths = Object.entries(RECORD_BOUNDS[stream]).filter(([path]) => hasPlaceAt(record, path));
      const [path, b] = paths[pick % paths.length]!;
      const absurd = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1e12, 1e12, b.min - 1, b.max + 1, -(2 ** 31)];
      const value = absurd[which % absurd.length]!;
      const changed = withValue(record, path, value);
      // What Avro cannot carry (NaN in a long, 10^12 in an int) is no schema-valid record.
      fc.pre(type.isValid(changed) && !(value >= b.min && value <= b.max));
      const error = await roundTrip(codec, changed).then(() => undefined, (e: unknown) => e);
      expect(error, `${stream} ${path}=${value}`).toBeInstanceOf(GpumonError);
      expect((error as GpumonError).code).toBe('validation_failed');
      expect((error as GpumonError).message).toContain(`${path}=${value} outside [${b.min}, ${b.max}]`);
    }), { numRuns: 1500 });
  });

  it('any frame of any stream, cut, overwritten or spliced with a huge count: decode_failed, or a record that validateRecord passes or refuses as validation_failed; nothing else', async () => {
    const huge = fc.constantFrom(200_000_000, 2 ** 31, AVSC_MAX_LONG);
    await fc.assert(fc.asyncProperty(possible, fc.nat(), fc.uint8Array({ maxLength: 16 }), huge, fc.nat({ max: 2 }), async ({ codec, record }, at, bytes, count, how) => {
      const frame = codec.encode(record as never);
      const place = 5 + (at % (frame.length - 5));
      const hostile = [
        frame.subarray(0, place),
        Buffer.concat([frame.subarray(0, place), bytes, frame.subarray(Math.min(frame.length, place + bytes.length))]),
        Buffer.concat([frame.subarray(0, place), avro.Type.forSchema('long').toBuffer(count), bytes]),
      ][how]!;
      try {
        const decoded = await codec.decode(hostile);
        validateRecord(codec.stream, decoded, Date.UTC(2026, 0, 1));
      } catch (error) {
        expect(error).toBeInstanceOf(GpumonError);
        expect(['decode_failed', 'validation_failed']).toContain((error as GpumonError).code);
      }
    }), { numRuns: 1500 });
  });
});

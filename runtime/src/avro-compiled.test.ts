import { readdirSync, readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { schemaText, type AvroRecord } from '@gpumon/schemas/avro';
import { STREAMS } from '@gpumon/schemas/topics';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { compileCodec } from './avro-compiled.js';

const EXPECTED = new URL('../../producers/nvidia-smi/testdata/expected/', import.meta.url);
/** Every sample the agent's tests expect from the real captures (processes, MIG, Xid events among them). */
const captured = readdirSync(EXPECTED).flatMap((file) => (JSON.parse(readFileSync(new URL(file, EXPECTED), 'utf8')) as { samples: GpuSample[] }).samples);

const typeOf = (stream: (typeof STREAMS)[number]): avro.Type => avro.Type.forSchema(JSON.parse(schemaText(stream)) as avro.Schema);

function encoded(codec: ReturnType<typeof compileCodec>, record: unknown): Buffer {
  const out = Buffer.alloc(1 << 20);
  const end = codec.encode(record, out, 0);
  expect(end).toBeGreaterThanOrEqual(0);
  return out.subarray(0, end);
}

describe('compileCodec', () => {
  it.each(STREAMS)('writes the bytes avsc writes, and reads back what avsc reads, for random %s records', (stream) => {
    const type = typeOf(stream);
    const codec = compileCodec(type);
    for (let k = 0; k < 300; k++) {
      const record = type.random();
      const bytes = encoded(codec, record);
      expect(bytes.equals(type.toBuffer(record)), `${stream} record ${k}`).toBe(true);
      expect(codec.decode(bytes)).toEqual(type.fromBuffer(bytes));
    }
  });

  it('writes and reads the captured samples as avsc does', () => {
    const type = typeOf('samples');
    const codec = compileCodec(type);
    for (const sample of captured) {
      const bytes = encoded(codec, sample);
      expect(bytes.equals(type.toBuffer(sample)), sample.gpu_uuid).toBe(true);
      expect(codec.decode(bytes)).toEqual(type.fromBuffer(bytes));
    }
  });

  it('leaves out top-level fields as avsc resolution to a schema without them does, the fields after them read right', () => {
    const schema = JSON.parse(schemaText('samples')) as AvroRecord;
    const type = avro.Type.forSchema(schema as avro.Schema);
    const left = new Set(['features', 'processes']);
    const projected = avro.Type.forSchema({ ...schema, fields: schema.fields.filter((f) => !left.has(f.name)) } as avro.Schema);
    const resolver = projected.createResolver(type);
    const codec = compileCodec(type, left);
    for (const record of [...captured, ...Array.from({ length: 200 }, () => type.random() as unknown as GpuSample)]) {
      const bytes = type.toBuffer(record);
      expect(codec.decode(bytes)).toEqual(projected.fromBuffer(bytes, resolver));
    }
  });

  it('writes, reads and steps over unions of more than two branches as avsc does', () => {
    const union = { name: 'u', type: ['null', 'string', 'long'] };
    const after = { name: 'after', type: 'string' };
    const type = avro.Type.forSchema({ type: 'record', name: 'R', fields: [union, { name: 'left', type: ['null', 'double', { type: 'array', items: 'string' }] }, after] } as avro.Schema);
    const projected = avro.Type.forSchema({ type: 'record', name: 'R', fields: [union, after] } as avro.Schema);
    const resolver = projected.createResolver(type);
    const codec = compileCodec(type);
    const leaving = compileCodec(type, new Set(['left']));
    for (let k = 0; k < 300; k++) {
      const record = type.random();
      const bytes = encoded(codec, record);
      expect(bytes.equals(type.toBuffer(record)), `record ${k}`).toBe(true);
      expect(codec.decode(bytes)).toEqual(type.fromBuffer(bytes));
      expect(leaving.decode(bytes)).toEqual(projected.fromBuffer(bytes, resolver));
    }
  });

  it('reads short strings right through the cache of strings seen, past its size, from two codecs', () => {
    const type = avro.Type.forSchema({ type: 'record', name: 'S', fields: [{ name: 's', type: 'string' }] } as avro.Schema);
    const codecs = [compileCodec(type), compileCodec(type)];
    // 300,000 strings of 0–64 bytes, ASCII and not, each read twice by one codec or the other: far more than the cache holds, hashes colliding.
    const strings = Array.from({ length: 300_000 }, (_, k) => (k % 7 === 0 ? `é${k}` : `GPU-${k.toString(36)}`).padEnd(k % 65, 'x').slice(0, 64));
    for (const [k, text] of [...strings.entries(), ...strings.entries()]) {
      const decoded = codecs[k % 2]!.decode(type.toBuffer({ s: text })) as { s: string };
      if (decoded.s !== text) expect(decoded.s, `string ${k}`).toBe(text);
    }
    expect((codecs[0]!.decode(type.toBuffer({ s: '' })) as { s: string }).s).toBe('');
  });

  it('reads the blocks avsc reads that it never writes: several blocks, a byte size announced', () => {
    const type = avro.Type.forSchema({ type: 'array', items: 'string' });
    // Two blocks: [2 items] then [-1 items, 4 bytes], then the end.
    const bytes = Buffer.from([4, 2, 0x61, 2, 0x62, 1, 8, 6, 0x63, 0x64, 0x65, 0]);
    expect(compileCodec(type).decode(bytes)).toEqual(type.fromBuffer(bytes));
    expect(compileCodec(type).decode(bytes)).toEqual(['a', 'b', 'cde']);
  });

  it('reads and writes longs across their range as avsc does', () => {
    const type = avro.Type.forSchema('long');
    const codec = compileCodec(type);
    for (const n of [0, -1, 1, 63, -64, 64, 2 ** 30 - 1, 2 ** 30, -(2 ** 30), -(2 ** 30) - 1, 2 ** 31, 1_767_225_600_000, -1_767_225_600_000, 2 ** 52, 9007199254740990, -9007199254740990]) {
      const bytes = encoded(codec, n);
      expect([...bytes], String(n)).toEqual([...type.toBuffer(n)]);
      expect(codec.decode(bytes)).toBe(type.fromBuffer(bytes));
    }
  });

  it('refuses what avsc refuses, naming the field', () => {
    const type = typeOf('samples');
    const codec = compileCodec(type);
    const sample = captured[0]!;
    const refusal = (record: unknown): string => {
      try {
        codec.encode(record, Buffer.alloc(1 << 16), 0);
      } catch (error) {
        expect(() => type.toBuffer(record)).toThrow();
        return (error as Error).message;
      }
      return 'encoded';
    };
    expect(refusal({ ...sample, power_draw_w: '71.2' })).toBe('invalid power_draw_w: "71.2"');
    expect(refusal({ ...sample, gpu_index: 1.5 })).toBe('invalid gpu_index: 1.5');
    expect(refusal({ ...sample, time: 2 ** 60 })).toBe(`invalid time: ${2 ** 60}`);
    expect(refusal({ ...sample, hostname: null })).toBe('invalid hostname: null');
    expect(refusal({ ...sample, processes: [{ pid: 'x' }] })).toMatch(/^invalid processes\[\]\./);
    expect(refusal({ ...sample, source: 'NOT_A_SOURCE' })).toBe('invalid source: "NOT_A_SOURCE"');
  });

  it('answers -1 when the buffer is too small, and fits it once given room (a number needs 10 bytes free, whatever it takes)', () => {
    const codec = compileCodec(typeOf('samples'));
    const sample = captured[0]!;
    const whole = encoded(codec, sample);
    const small = Buffer.alloc(whole.length + 4 - 1);
    expect(codec.encode(sample, small, 4)).toBe(-1);
    const room = Buffer.alloc(whole.length + 4 + 10);
    expect(codec.encode(sample, room, 4)).toBe(whole.length + 4);
    expect(room.subarray(4, whole.length + 4).equals(whole)).toBe(true);
  });

  it('refuses trailing bytes as avsc does', () => {
    const type = typeOf('health');
    const bytes = Buffer.concat([type.toBuffer(type.random()), Buffer.from([0])]);
    expect(() => compileCodec(type).decode(bytes)).toThrow('trailing data');
    expect(() => type.fromBuffer(bytes)).toThrow('trailing data');
  });
});

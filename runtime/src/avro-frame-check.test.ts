import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { schemaOf } from '@gpumon/schemas/avro';
import { seededRandom } from '@gpumon/schemas/generated-records';
import { frameCheck } from './avro-frame-check.js';

/** Every kind of Avro type, nested: arrays of records holding maps, unions, fixed, enums, and a recursive list. */
const NODE = avro.Type.forSchema({
  type: 'record', name: 'Node', fields: [
    { name: 'label', type: 'string' },
    { name: 'tags', type: { type: 'map', values: { type: 'array', items: 'long' } } },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B', 'C'] } },
    { name: 'id', type: { type: 'fixed', name: 'Id', size: 4 } },
    { name: 'weights', type: ['null', { type: 'array', items: 'double' }] },
    { name: 'children', type: { type: 'array', items: {
      type: 'record', name: 'Child', fields: [
        { name: 'blob', type: 'bytes' },
        { name: 'flags', type: { type: 'array', items: 'boolean' } },
        { name: 'nothing', type: { type: 'array', items: 'null' } },
        { name: 'ratio', type: ['null', 'float'] },
      ],
    } } },
    { name: 'next', type: ['null', 'Node'] },
  ],
} as avro.Schema);

const check = frameCheck(NODE);
/** Small random values, so each run covers many shapes (avsc's own generator). */
const nodes = fc.integer().map((seed) => seededRandom<Record<string, unknown>>(NODE, seed));

const zigzag = (n: number): Buffer => {
  const bytes: number[] = [];
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 0x80) {
    bytes.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  bytes.push(z);
  return Buffer.from(bytes);
};

/** A check that passes hands the body to avsc; what avsc then throws is an ordinary decode failure. */
function outcome(body: Buffer): 'decoded' | 'refused' | 'avsc refused' {
  try {
    check(body);
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toMatch(/Maximum call stack|Invalid array length/);
    return 'refused';
  }
  try {
    NODE.fromBuffer(body);
    return 'decoded';
  } catch {
    return 'avsc refused';
  }
}

describe('frameCheck', () => {
  it('passes every valid body, which avsc then decodes', () => {
    fc.assert(fc.property(nodes, (node) => {
      const body = NODE.toBuffer(node);
      check(body);
      expect(NODE.toBuffer(NODE.fromBuffer(body))).toEqual(body);
    }), { numRuns: 300 });
  });

  it('refuses every truncation of a valid body', () => {
    fc.assert(fc.property(nodes, fc.nat(), (node, cut) => {
      const body = NODE.toBuffer(node);
      expect(outcome(body.subarray(0, cut % body.length))).toBe('refused');
    }), { numRuns: 300 });
  });

  it('a huge count or length spliced in anywhere is refused by the check, or is a plain number avsc reads', () => {
    const huge = fc.oneof(fc.integer({ min: 1 << 20, max: 2 ** 31 }), fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }), fc.constant(200_000_000));
    fc.assert(fc.property(nodes, fc.nat(), huge, fc.boolean(), fc.uint8Array({ maxLength: 32 }), (node, at, count, negative, tail) => {
      const body = NODE.toBuffer(node);
      const frame = Buffer.concat([body.subarray(0, at % body.length), zigzag(negative ? -count : count), tail]);
      expect(['refused', 'decoded', 'avsc refused']).toContain(outcome(frame));
    }), { numRuns: 500 });
  });

  it('random bytes: refused or decoded, never anything else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      expect(['refused', 'decoded', 'avsc refused']).toContain(outcome(Buffer.from(bytes)));
    }), { numRuns: 2000 });
  });

  it('names the place and the numbers at each depth: arrays, maps, bytes, arrays of zero-size items, recursion', () => {
    const leaf = { label: 'x', tags: {}, kind: 'A', id: Buffer.alloc(4), weights: null, children: [], next: null };
    const body = (node: object): Buffer => NODE.toBuffer(node);
    // label "x", empty tags: the tags map's count is byte 2.
    const tagsAt = 2;
    expect(() => check(Buffer.concat([body(leaf).subarray(0, tagsAt), zigzag(200_000_000), Buffer.from([2, 0x61])]))).toThrow(
      'tags: 200000000 items announced, 2 bytes left at byte 7 of 9',
    );
    const child = { blob: Buffer.from('MARK'), flags: [], nothing: [], ratio: null };
    const withChild = body({ ...leaf, children: [child] });
    const blobAt = withChild.indexOf('MARK') - 1;
    expect(() => check(Buffer.concat([withChild.subarray(0, blobAt), zigzag(1 << 30)]))).toThrow(/^children\[\]\.blob: 1073741824 bytes announced, 0 left/);
    const nothingAt = blobAt + 1 + 4 + 1;
    expect(() => check(Buffer.concat([withChild.subarray(0, nothingAt), zigzag(200_000_000), Buffer.from([0, 0, 0, 0])]))).toThrow(
      /^children\[\]\.nothing: 200000000 items announced/,
    );
    const deep = Array.from({ length: 100 }).reduce<object>((next) => ({ ...leaf, next }), leaf);
    expect(() => check(body(deep))).toThrow(/nested more than 64 records deep/);
  });

  it('zero-size items stay within the body\'s length in all, however the blocks split them', () => {
    const leaf = { label: 'x', tags: {}, kind: 'A', id: Buffer.alloc(4), weights: null, children: [{ blob: Buffer.alloc(0), flags: [], nothing: [null, null], ratio: null }], next: null };
    const valid = NODE.toBuffer(leaf);
    check(valid);
    const nothingAt = valid.indexOf(Buffer.from([4]), 9);
    // Blocks of 8 nulls, each block two bytes: more nulls than the body has bytes.
    const blocks = Buffer.concat(Array.from({ length: 20 }, () => zigzag(8)));
    const frame = Buffer.concat([valid.subarray(0, nothingAt), blocks, Buffer.from([0]), valid.subarray(nothingAt + 2)]);
    expect(() => check(frame)).toThrow(/children\[\]\.nothing: 8 items announced/);
  });

  it('answers whether every number it has bounds of lies within them (NaN never does), at any depth', () => {
    const unit = { min: 0, max: 1 };
    const bounded = frameCheck(NODE, { 'weights[]': unit, 'children[].ratio': unit, 'tags{}[]': { min: -5, max: 5 } });
    const within = (v: number, b: { min: number; max: number }): boolean => v >= b.min && v <= b.max;
    const fraction = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.double(), fc.constant(Number.NaN));
    fc.assert(fc.property(nodes, fc.array(fraction), fc.array(fc.integer({ min: -8, max: 8 })), fc.option(fraction), (node, weights, tag, ratio) => {
      const children = [...(node.children as object[]), { blob: Buffer.alloc(0), flags: [], nothing: [], ratio }];
      const body = NODE.toBuffer({ ...node, weights, tags: { ...(node.tags as object), t: tag }, children });
      // As avsc reads them back: a float is a float32.
      const decoded = NODE.fromBuffer(body) as { weights: number[]; tags: Record<string, number[]>; children: Array<{ ratio: number | null }> };
      const expected = decoded.weights.every((w) => within(w, unit)) && Object.values(decoded.tags).flat().every((t) => within(t, { min: -5, max: 5 }))
        && decoded.children.every((c) => c.ratio === null || within(c.ratio, unit));
      expect(bounded(body)).toBe(expected);
      expect(check(body)).toBe(true);
    }), { numRuns: 300 });
  });

  it('follows the writer schema, not the reader: an older writer\'s body ends where its own last field does', () => {
    const samples = schemaOf('samples');
    // A writer from before attribution: no processes, workloads or attribution_problems.
    const older = avro.Type.forSchema({ ...samples, fields: samples.fields.filter((f) => !['processes', 'workloads', 'attribution_problems'].includes(f.name)) } as avro.Schema);
    const tail = { mig_instances: [], xid_events: [], gpu_lost: false, features: null, simulated_fault: null, interval_s: null, temperature_slowdown_margin_c: null };
    const body = older.toBuffer({ ...(older.random() as object), ...tail });
    frameCheck(older)(body);
    expect(() => frameCheck(avro.Type.forSchema(samples as avro.Schema))(body)).toThrow(/ends where|announced/);
    // The body ends with xid_events' count, then five one-byte fields (false, and four nulls).
    const xidAt = body.length - 6;
    expect(() => frameCheck(older)(Buffer.concat([body.subarray(0, xidAt), zigzag(200_000_000), body.subarray(xidAt + 1)]))).toThrow(
      /^xid_events: 200000000 items announced, 5 bytes left/,
    );
  });
});

import './kafka.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { inspect, isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from './crc32c.js';
import { groupMessagesPerPartition, kafkajsFixed, type GroupingArgs } from './kafkajs-fixes.js';

const require = createRequire(import.meta.url);

/**
 * A kafkajs module as kafkajs ships it: evaluated from its file, with every kafkajs module it
 * requires evaluated likewise, apart from the module cache where the runtime replaced some.
 */
function kafkajsOwn<T>(path: string): T {
  const loaded = new Map<string, { exports: unknown }>();
  const load = (file: string): unknown => {
    const known = loaded.get(file);
    if (known !== undefined) return known.exports;
    const module = { exports: {} as unknown };
    loaded.set(file, module);
    const requireNear = createRequire(file);
    const own = (id: string): unknown => {
      const resolved = requireNear.resolve(id);
      return resolved.includes('/node_modules/kafkajs/') && resolved.endsWith('.js') ? load(resolved) : requireNear(id);
    };
    new Function('module', 'exports', 'require', readFileSync(file, 'utf8'))(module, module.exports, own);
    return module.exports;
  };
  return load(require.resolve(`kafkajs/src/${path}`)) as T;
}

interface EncoderLike { buffer: Buffer; writeUVarInt(v: number): EncoderLike; writeVarInt(v: number): EncoderLike; writeVarLong(v: unknown): EncoderLike }
type EncoderClass = (new () => EncoderLike) & { sizeOfVarLong(v: unknown): number };

function partitions(count: number): Array<{ partitionId: number }> {
  return Array.from({ length: count }, (_, partitionId) => ({ partitionId }));
}

describe('kafkajs 2.2.4 with the runtime\'s fixes', () => {
  it('is what runs once the runtime\'s Kafka module has loaded', () => {
    expect(kafkajsFixed).toBe(true);
    const sendMessages = require.cache[require.resolve('kafkajs/src/producer/sendMessages.js')];
    expect(sendMessages?.children.find((child) => child.filename.endsWith('groupMessagesPerPartition.js'))?.exports).toBe(groupMessagesPerPartition);
  });

  it('groups a send\'s messages as kafkajs does: the same partitions, each with its messages in the order sent', () => {
    const theirs = kafkajsOwn<typeof groupMessagesPerPartition>('producer/groupMessagesPerPartition.js');
    const message = fc.record({ value: fc.string({ maxLength: 4 }), partition: fc.option(fc.nat(7), { nil: undefined }) });
    // Stateful like kafkajs's round-robin for messages without a key, so the order of the calls counts too.
    const partitioner = (count: number): GroupingArgs<{ value: string; partition?: number }>['partitioner'] => {
      let calls = 0;
      return ({ message: m }) => m.partition ?? (calls++ * 7 + m.value.length) % count;
    };
    fc.assert(fc.property(fc.array(message, { maxLength: 200 }), fc.integer({ min: 0, max: 8 }), (messages, count) => {
      const args = () => ({ topic: 't', partitionMetadata: partitions(count), messages, partitioner: partitioner(count) });
      expect(groupMessagesPerPartition(args())).toEqual(theirs(args()));
    }), { numRuns: 2_000 });
  });

  it('groups 20,000 messages for one partition in one pass', () => {
    const messages = Array.from({ length: 20_000 }, (_, i) => ({ key: 'GPU-1', value: String(i) }));
    const grouped = groupMessagesPerPartition({ topic: 't', partitionMetadata: partitions(6), messages, partitioner: () => 4 });
    expect(Object.values(grouped).map((list) => list.length)).toEqual([20_000]);
    expect(Object.values(grouped)[0]!.map((m) => m.value)).toEqual(messages.map((m) => m.value));
  });

  it('writes every varint and varlong byte for byte as kafkajs does, and sizes varlongs alike', () => {
    const Fixed = require('kafkajs/src/protocol/encoder.js') as EncoderClass;
    const Own = kafkajsOwn<EncoderClass>('protocol/encoder.js');
    const int = fc.oneof(fc.integer(), fc.integer({ min: -200, max: 200 }), fc.constantFrom(0, -1, 127, 128, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1));
    const long = fc.oneof(int, fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), fc.double({ noNaN: true, min: -1e6, max: 1e6 }).map(Math.trunc));
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('u', 'i', 'l'), long), { maxLength: 40 }), (writes) => {
      const [ours, theirs] = [new Fixed(), new Own()];
      for (const [kind, value] of writes) {
        for (const encoder of [ours, theirs]) {
          if (kind === 'l') encoder.writeVarLong(value);
          else if (typeof value === 'number' && kind === 'u') encoder.writeUVarInt(value);
          else if (typeof value === 'number') encoder.writeVarInt(value);
        }
        if (kind === 'l') expect(Fixed.sizeOfVarLong(value)).toBe(Own.sizeOfVarLong(value));
      }
      expect(ours.buffer.equals(theirs.buffer)).toBe(true);
    }), { numRuns: 5_000 });
  });

  it('checksums record batches as kafkajs does (CRC-32C)', () => {
    const theirs = kafkajsOwn<(bytes: Buffer) => number>('protocol/recordBatch/crc32C/index.js');
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 5_000 }), fc.nat(7), (bytes, start) => {
      // Also from an offset into a larger buffer, as kafkajs's batch body is a slice of its encoder's.
      const slice = Buffer.from(bytes).subarray(Math.min(start, bytes.length));
      expect(crc32c(slice)).toBe(theirs(slice));
    }), { numRuns: 2_000 });
  });

  it('encodes record batches byte for byte as kafkajs does, whatever the memory its buffers are taken from holds', async () => {
    type Record = (args: { offsetDelta: number; timestampDelta: number; key: Buffer | null; value: Buffer | null; headers: object }) => unknown;
    type RecordBatch = (args: { firstTimestamp: number; maxTimestamp: number; lastOffsetDelta: number; records: unknown[] }) => Promise<{ buffer: Buffer }>;
    const ours = { Record: require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as Record, ...require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: RecordBatch } };
    const theirs = { Record: kafkajsOwn<Record>('protocol/recordBatch/record/v0/index.js'), ...kafkajsOwn<{ RecordBatch: RecordBatch }>('protocol/recordBatch/v0/index.js') };
    const bytes = fc.option(fc.uint8Array({ maxLength: 3_000 }).map((b) => Buffer.from(b)), { nil: null });
    const headers = fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 20 }), fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 })), { maxKeys: 3 });
    const record = fc.record({ timestampDelta: fc.integer({ min: 0, max: 2 ** 31 - 1 }), key: bytes, value: bytes, headers });
    await fc.assert(fc.asyncProperty(fc.array(record, { maxLength: 30 }), async (records) => {
      const batch = async ({ Record, RecordBatch }: typeof ours) => (await RecordBatch({
        firstTimestamp: 1_764_979_200_000, maxTimestamp: 1_764_979_260_000, lastOffsetDelta: records.length - 1,
        records: records.map((r, offsetDelta) => Record({ ...r, offsetDelta })),
      })).buffer;
      const theirBytes = await batch(theirs);
      // Unfilled memory at its worst: every buffer ours take holds bytes that are not zero, so an unwritten byte would show.
      const { allocUnsafe } = Buffer;
      Buffer.allocUnsafe = (size: number) => allocUnsafe(size).fill(0xa5);
      try {
        expect((await batch(ours)).equals(theirBytes)).toBe(true);
      } finally {
        Buffer.allocUnsafe = allocUnsafe;
      }
    }), { numRuns: 500 });
  });

  it('writes produce requests byte for byte as kafkajs does, framed as kafkajs frames them', async () => {
    interface Request { apiKey: number; apiVersion: number; apiName: string; expectResponse(): boolean; encode(): Promise<{ buffer: Buffer }> }
    type Produce = (args: object) => Request;
    type Frame = (args: { correlationId: number; clientId: string | null; request: Request }) => Promise<{ buffer: Buffer }>;
    const ours = { produce: require('kafkajs/src/protocol/requests/produce/v3/request.js') as Produce, frame: require('kafkajs/src/protocol/request.js') as Frame };
    const theirs = { produce: kafkajsOwn<Produce>('protocol/requests/produce/v3/request.js'), frame: kafkajsOwn<Frame>('protocol/request.js') };
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 2_000 }).map((b) => Buffer.from(b)), text, fc.constant(null), fc.constant(undefined));
    const headerValue = fc.oneof(text, fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)));
    const headers = fc.option(fc.dictionary(text, fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 })), { maxKeys: 3 }), { nil: undefined });
    // Milliseconds as numbers or strings, some of another digit count (kafkajs sorts them as strings), falsy ones (kafkajs then takes
    // the request's Date.now() for the record's delta, not for the batch's first timestamp), or none.
    const ms = fc.integer({ min: 1_764_979_200_000, max: 1_764_979_300_000 });
    const timestamp = fc.option(fc.oneof({ arbitrary: ms, weight: 20 }, { arbitrary: fc.integer({ min: 0, max: 99_999 }), weight: 5 }, { arbitrary: ms.map(String), weight: 10 }, fc.constantFrom(0, '')), { nil: undefined });
    const message = fc.record({ key: bytes, value: bytes, headers, timestamp }, { requiredKeys: [] });
    const partition = fc.record({ partition: fc.nat(11), firstSequence: fc.option(fc.nat(), { nil: undefined }), messages: fc.array(message, { maxLength: 12 }) }, { requiredKeys: ['partition', 'messages'] });
    const args = fc.record({
      acks: fc.constantFrom(-1, 0, 1), timeout: fc.nat(), compression: fc.constantFrom(undefined, 0),
      transactionalId: fc.option(text, { nil: undefined }), producerId: fc.option(fc.integer({ min: -1, max: 2 ** 40 }), { nil: undefined }),
      producerEpoch: fc.option(fc.nat(32_767), { nil: undefined }),
      topicData: fc.array(fc.record({ topic: text, partitions: fc.array(partition, { maxLength: 4 }) }), { maxLength: 3 }),
    }, { requiredKeys: ['acks', 'timeout', 'topicData'] });
    const framing = fc.record({ correlationId: fc.nat(), clientId: fc.option(text, { nil: null }) });
    const { now } = Date;
    const { allocUnsafe } = Buffer;
    let encoded = 0;
    try {
      await fc.assert(fc.asyncProperty(args, framing, fc.integer({ min: 1_764_979_200_000, max: 1_764_979_300_000 }), async (request, frame, clock) => {
        Date.now = () => clock;
        // What a side sends, or the error it throws (kafkajs's Long refuses an empty timestamp string, and so must ours).
        const sent = async ({ produce, frame: framed }: typeof ours) => {
          try {
            const { encode, ...fields } = produce(request);
            return { fields: { ...fields, expectResponse: fields.expectResponse() }, hex: (await framed({ ...frame, request: { ...fields, encode } })).buffer.toString('hex') };
          } catch (error) {
            return { error: String(error) };
          }
        };
        const kafkajs = await sent(theirs);
        // Unfilled memory at its worst, as above: an unwritten byte would show.
        Buffer.allocUnsafe = (size: number) => allocUnsafe(size).fill(0xa5);
        const mine = await sent(ours);
        Buffer.allocUnsafe = allocUnsafe;
        expect(mine).toEqual(kafkajs);
        if ('hex' in mine) encoded++;
      }), { numRuns: 1_000 });
      // Most requests are sent, not refused alike.
      expect(encoded).toBeGreaterThan(800);
    } finally {
      Date.now = now;
      Buffer.allocUnsafe = allocUnsafe;
    }
  });

  it('decodes fetched record batches as kafkajs does: offsets, timestamps, keys, values and headers of every record', async () => {
    type Record = (args: { offsetDelta: number; timestampDelta: unknown; key: Buffer | null; value: Buffer | null; headers: object }) => unknown;
    type RecordBatch = (args: { firstOffset: string; firstTimestamp: string; maxTimestamp: string; lastOffsetDelta: number; records: unknown[] }) => Promise<{ buffer: Buffer }>;
    type BatchDecoder = (decoder: unknown) => Promise<unknown>;
    const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
    const ours = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as BatchDecoder;
    const theirs = kafkajsOwn<BatchDecoder>('protocol/recordBatch/v0/decoder.js');
    const { Record, RecordBatch } = { Record: kafkajsOwn<Record>('protocol/recordBatch/record/v0/index.js'), ...kafkajsOwn<{ RecordBatch: RecordBatch }>('protocol/recordBatch/v0/index.js') };
    const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    // Offsets and timestamps as they come, and at the edges where numbers stop being exact.
    const base = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 40n }), fc.bigInt({ min: 1_600_000_000_000n, max: 1_900_000_000_000n }), fc.constantFrom(2n ** 53n - 3n, -1n, 0n), int64).map(String);
    const delta = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(2 ** 48 - 1, 2 ** 48, -(2 ** 48), 2 ** 53 - 1), int64.map(String));
    const bytes = fc.option(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), { nil: null });
    // Names kafkajs's lookup finds on Object.prototype too.
    const headerName = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('toString', '__proto__', 'constructor'));
    const headers = fc.dictionary(headerName, fc.oneof(fc.string({ maxLength: 8 }), fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 })), { maxKeys: 3 });
    const record = fc.record({ timestampDelta: delta, key: bytes, value: bytes, headers });
    // Timestamp type (LOG_APPEND_TIME), transactional and control bits of the batch's attributes.
    const flags = fc.subarray([0x08, 0x10, 0x20]).map((bits) => bits.reduce((a, b) => a | b, 0));
    await fc.assert(fc.asyncProperty(fc.array(record, { maxLength: 20 }), base, base, base, flags, async (records, firstOffset, firstTimestamp, maxTimestamp, bits) => {
      const { buffer } = await RecordBatch({
        firstOffset, firstTimestamp, maxTimestamp, lastOffsetDelta: Math.max(0, records.length - 1),
        records: records.map((r, offsetDelta) => Record({ ...r, offsetDelta })),
      });
      // The attributes' low byte: after the first offset, length, leader epoch, magic byte and checksum, which kafkajs does not check.
      buffer[22]! |= bits;
      // Node's strict comparison: a header named "constructor" would trip vitest's check of the records' classes.
      const [mine, kafkajs] = [await ours(new Decoder(buffer)), await theirs(new Decoder(buffer))];
      expect(isDeepStrictEqual(mine, kafkajs), `ours ${inspect(mine)}\nkafkajs's ${inspect(kafkajs)}`).toBe(true);
    }), { numRuns: 1_000 });
  });
});

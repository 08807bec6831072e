import { createRequire } from 'node:module';
import { crc32c } from './crc32c.js';

/**
 * Hot paths of kafkajs 2.2.4, replaced by functions that return the same: kafkajs is unmaintained
 * since that release (the fix for the grouping has waited since 2023). In a co-located processor
 * the grouping and the varints were nearly half of everything it allocated; then the record
 * batch's checksum, a byte at a time, and a zero-filled buffer of its own for every record were an
 * eighth of its time. In the sink, a fetched record's offset and timestamp, added up in BigInts,
 * were a fifth. Applied only to that release; kafkajs-fixes.test.ts checks each against kafkajs's
 * own code.
 */
export const KAFKAJS_FIXED_VERSION = '2.2.4';

/** What kafkajs's producer hands its grouping of a send's messages by partition (sendMessages.js). */
export interface GroupingArgs<M> {
  topic: string;
  partitionMetadata: readonly unknown[];
  messages: readonly M[];
  partitioner: (args: { topic: string; partitionMetadata: readonly unknown[]; message: M }) => number;
}

/**
 * A send's messages by partition, each partition's in the order given: what kafkajs's
 * `groupMessagesPerPartition` returns, in one pass. kafkajs copies a partition's array for every
 * message it adds (`[...current, message]`), quadratic in the messages a send has for one
 * partition: a co-located processor sends each input batch's outputs at once, up to a few thousand
 * a topic, and that copying was a third of what it allocated (tulios/kafkajs#1576, never merged).
 */
export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: GroupingArgs<M>): Record<number, M[]> {
  const grouped: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return grouped;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (grouped[partition] ??= []).push(message);
  }
  return grouped;
}

/** The part of kafkajs's protocol Encoder the writers below use. */
interface Encoder {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
}

interface EncoderClass {
  new (initialSize?: number): Encoder;
  prototype: Encoder & { writeUVarInt(value: number): Encoder; writeVarLong(value: unknown): Encoder };
  nextPowerOfTwo(value: number): number;
  sizeOfVarLong(value: unknown): number;
}

/**
 * kafkajs's Encoder, its buffers taken from Node's pool unfilled: kafkajs zero-fills a new 512-byte
 * buffer for every record, then a larger one as it grows (2 KB for a sample), bytes it writes over
 * before reading. Every write advances the encoder only by the bytes it wrote, and its `buffer` ends
 * at that offset, so no unwritten byte is ever sent. A constructor returning one of kafkajs's own
 * encoders: the same prototype and static methods, `instanceof` holds.
 */
function pooledEncoder(Encoder: EncoderClass): EncoderClass {
  function PooledEncoder(initialSize = 511): Encoder {
    const encoder = Object.create(Encoder.prototype) as Encoder;
    encoder.buf = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(initialSize));
    encoder.offset = 0;
    return encoder;
  }
  PooledEncoder.prototype = Encoder.prototype;
  Object.setPrototypeOf(PooledEncoder, Encoder);
  Encoder.prototype.ensureAvailable = function (this: Encoder, length: number) {
    if (this.offset + length <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };
  return PooledEncoder as unknown as EncoderClass;
}

/** The bytes of an unsigned 32-bit value's varint (LEB128). */
function varintBytes(value: number): number {
  let bytes = 1;
  for (let rest = value >>> 7; rest !== 0; rest >>>= 7) bytes++;
  return bytes;
}

/** Writes an unsigned 32-bit varint in place; kafkajs builds an array and a Buffer for each. */
function writeUnsigned(encoder: Encoder, value: number): void {
  encoder.ensureAvailable(varintBytes(value));
  const { buf } = encoder;
  let offset = encoder.offset;
  while (value > 0x7f) {
    buf[offset++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[offset++] = value;
  encoder.offset = offset;
}

/** A 64-bit value that zigzag-encodes into 32 bits (every record's timestamp delta within ±24 days), or undefined. */
function smallZigZag(value: unknown): number | undefined {
  return typeof value === 'number' && (value | 0) === value ? ((value << 1) ^ (value >> 31)) >>> 0 : undefined;
}

/** The part of kafkajs's protocol Decoder a record is read with. */
interface Decoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readVarInt(): number;
  readVarLong(): object;
  readVarIntBytes(): Buffer | null;
  readVarIntArray<T>(reader: (decoder: Decoder) => T): T[];
}

/** kafkajs's 64-bit integer (utils/long.js, a BigInt inside). */
interface LongClass {
  fromValue(value: unknown): { add(addend: unknown): { toString(): string } };
}

/** What kafkajs's record batch decoder gives every record of a batch (recordBatch/v0/decoder.js). */
interface RecordContext {
  firstOffset?: string;
  firstTimestamp?: string;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
  maxTimestamp?: string;
}

/** kafkajs's TimestampTypes.LOG_APPEND_TIME: the broker's time, the batch's maxTimestamp, stands for every record's. */
const LOG_APPEND_TIME = 1;

/**
 * A varlong (zigzag) whose varint has at most 7 bytes, as a number (it is then below 2^49, exact);
 * undefined, reading nothing, for a longer one. A record's timestamp delta is the milliseconds
 * from its batch's first record: one to four bytes.
 */
function readShortVarLong(decoder: Decoder): number | undefined {
  const { buffer } = decoder;
  let offset = decoder.offset;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    const byte = buffer[offset++]!;
    value += (byte & 0x7f) * scale;
    // Read past the end a byte is undefined: kafkajs's loop ends there, as this one does.
    if (!(byte >= 0x80)) {
      decoder.offset = offset;
      return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    }
    scale *= 128;
  }
  return undefined;
}

/**
 * kafkajs's record decoder (protocol/recordBatch/record/v0/decoder.js). kafkajs adds each record's
 * offset and timestamp deltas to the batch's base in a BigInt (its Long) parsed from a string,
 * and reads the timestamp delta through three more; these are added as numbers while every value
 * is an exact integer, in kafkajs's Long otherwise. The headers are gathered as kafkajs's do, in
 * one object instead of a copy per header.
 */
function recordDecoder(Long: LongClass, readHeader: (decoder: Decoder) => { key: string; value: Buffer | null }) {
  /** A base as a number when it is exact (a safe integer written as JavaScript writes it). */
  const exact = (base: unknown): number | undefined => {
    if (typeof base !== 'string') return undefined;
    const start = Number(base);
    return Number.isSafeInteger(start) && String(start) === base ? start : undefined;
  };
  const plus = (base: unknown, start: number | undefined, delta: number | object): string => {
    if (start !== undefined && typeof delta === 'number' && Number.isSafeInteger(start + delta)) return String(start + delta);
    return Long.fromValue(base).add(delta).toString();
  };
  // kafkajs hands every record of a batch the same context object: its bases are parsed once a batch.
  let context: RecordContext | undefined;
  let offsetStart: number | undefined;
  let timestampStart: number | undefined;
  return (decoder: Decoder, batchContext: RecordContext = {}) => {
    const { firstOffset, firstTimestamp, magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
    if (batchContext !== context) {
      context = batchContext;
      offsetStart = exact(firstOffset);
      timestampStart = exact(firstTimestamp);
    }
    const attributes = decoder.readInt8();
    const timestampDelta = readShortVarLong(decoder) ?? decoder.readVarLong();
    const timestamp = timestampType === LOG_APPEND_TIME && maxTimestamp ? maxTimestamp : plus(firstTimestamp, timestampStart, timestampDelta);
    const offset = plus(firstOffset, offsetStart, decoder.readVarInt());
    const key = decoder.readVarIntBytes();
    const value = decoder.readVarIntBytes();
    const headers: Record<string, unknown> = {};
    for (const header of decoder.readVarIntArray(readHeader)) {
      // An inherited name (toString, __proto__) reads as kafkajs's lookup does; the value is an own property as in its spread.
      const before = headers[header.key];
      const after = before === undefined ? header.value : Array.isArray(before) ? before.concat([header.value]) : [before, header.value];
      Object.defineProperty(headers, header.key, { value: after, writable: true, enumerable: true, configurable: true });
    }
    return { magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord: isControlBatch, batchContext };
  };
}

const require = createRequire(import.meta.url);

/** kafkajs's version where its files are there to change; undefined in the agent's single-file bundle (packaging/), whose sends are one tick of one host's GPUs. */
function installedKafkajs(): string | undefined {
  try {
    return (require('kafkajs/package.json') as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** Makes `path`'s module export `exports` to every kafkajs module that requires it later. */
function replaceModule(path: string, exports: unknown): void {
  const file = require.resolve(`kafkajs/src/${path}`);
  require(file);
  require.cache[file]!.exports = exports;
}

/**
 * Whether kafkajs runs with the functions above. kafkajs's modules take each other's exports when
 * they load, so this module has to run before anything loads kafkajs: it is the first import of
 * every runtime module that imports kafkajs's values.
 */
export const kafkajsFixed: boolean = (() => {
  if (installedKafkajs() !== KAFKAJS_FIXED_VERSION) return false;
  const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass;
  const decodeRecord = recordDecoder(require('kafkajs/src/utils/long.js') as LongClass, require('kafkajs/src/protocol/recordBatch/header/v0/decoder.js') as (decoder: Decoder) => { key: string; value: Buffer | null });
  // Node's ESM loader enters a CommonJS module that an ESM module imports in the cache before running it.
  if (require.cache[require.resolve('kafkajs')]?.loaded !== true) {
    replaceModule('producer/groupMessagesPerPartition.js', groupMessagesPerPartition);
    replaceModule('protocol/recordBatch/crc32C/index.js', crc32c);
    replaceModule('protocol/encoder.js', pooledEncoder(Encoder));
    replaceModule('protocol/recordBatch/record/v0/decoder.js', decodeRecord);
  }
  const { writeVarLong } = Encoder.prototype;
  const sizeOfVarLong = Encoder.sizeOfVarLong.bind(Encoder);
  Encoder.prototype.writeUVarInt = function (this: Encoder, value: number) {
    // kafkajs's loop shifts a JavaScript number (signed) unsigned: what it writes is value >>> 0's varint.
    writeUnsigned(this, value >>> 0);
    return this;
  };
  Encoder.prototype.writeVarLong = function (this: Encoder, value: unknown) {
    const zigZag = smallZigZag(value);
    if (zigZag === undefined) return writeVarLong.call(this, value);
    writeUnsigned(this, zigZag);
    return this;
  };
  Encoder.sizeOfVarLong = (value: unknown) => {
    const zigZag = smallZigZag(value);
    return zigZag === undefined ? sizeOfVarLong(value) : varintBytes(zigZag);
  };
  return require('kafkajs/src/producer/groupMessagesPerPartition.js') === groupMessagesPerPartition
    && require('kafkajs/src/protocol/recordBatch/crc32C/index.js') === crc32c
    && require('kafkajs/src/protocol/encoder.js') !== Encoder
    && require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js') === decodeRecord;
})();

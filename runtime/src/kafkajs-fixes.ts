import { createRequire } from 'node:module';
import { crc32c } from './crc32c.js';

/**
 * Hot paths of kafkajs 2.2.4, replaced by functions that return the same: kafkajs is unmaintained
 * since that release (the fix for the grouping has waited since 2023). In a co-located processor
 * the grouping and the varints were nearly half of everything it allocated; then the record
 * batch's checksum, a byte at a time, and a zero-filled buffer of its own for every record were an
 * eighth of its time. In the sink, a fetched record's offset and timestamp, added up in BigInts,
 * were a fifth. A produce request's bytes were copied seven times on their way to the socket.
 * Applied only to that release; kafkajs-fixes.test.ts checks each against kafkajs's own code.
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

/** The part of kafkajs's Encoder a produce request is written with. */
interface ProduceEncoder extends Encoder {
  writeInt8(value: number): ProduceEncoder;
  writeInt16(value: number): ProduceEncoder;
  writeInt32(value: number): ProduceEncoder;
  writeUInt32(value: number): ProduceEncoder;
  writeInt64(value: unknown): ProduceEncoder;
  writeString(value: string | null): ProduceEncoder;
  writeVarInt(value: number): ProduceEncoder;
  writeVarLong(value: unknown): ProduceEncoder;
  writeVarIntString(value: string): ProduceEncoder;
  writeVarIntBytes(value: unknown): ProduceEncoder;
  writeEncoder(value: Encoder): ProduceEncoder;
}

interface ProduceEncoderClass {
  new (initialSize?: number): ProduceEncoder;
  sizeOfVarInt(value: number): number;
  sizeOfVarLong(value: unknown): number;
  sizeOfVarIntBytes(value: unknown): number;
}

/** A message as kafkajs's producer hands it to a produce request. */
interface ProduceMessage {
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
  timestamp?: number | string | null;
}

/** The arguments of kafkajs's produce request (protocol/requests/produce/v3/request.js; v4 to v7 send the same bytes). */
interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: Array<{ topic: string; partitions: Array<{ partition: number; firstSequence?: number; messages: ProduceMessage[] }> }>;
}

interface ProduceRequest {
  encode(): Promise<Encoder>;
}

/** kafkajs's CompressionTypes.None; RecordBatch's MAGIC_BYTE; its attribute bit of a transactional batch. */
const COMPRESSION_NONE = 0;
const MAGIC_BYTE = 2;
const TRANSACTIONAL = 16;

/**
 * kafkajs's produce request, its uncompressed record batches written into the request's one buffer.
 * kafkajs writes each record into a buffer of its own, grown as it goes, then copies the records
 * into the batch, the batch into a second encoder and a third, then into the partition's, the
 * topic's and the request's: seven copies of every byte sent, each into a new buffer. In the
 * simulator those copies and buffers were a quarter of its sending thread's busy time. The bytes
 * are the same, field for field (kafkajs-fixes.test.ts compares them); a compressed batch is
 * still kafkajs's.
 */
function produceRequest(Encoder: ProduceEncoderClass, Long: { fromInt(value: number): unknown }, kafkajsRequest: (args: ProduceArgs) => ProduceRequest) {
  /** A record's bytes after its length, sized as kafkajs's record/v0 sizes them. */
  const recordBodySize = (timestampDelta: number, offsetDelta: number, key: unknown, value: unknown, headers: Array<{ key: string; value: unknown }>) => {
    let size = 1 + Encoder.sizeOfVarLong(timestampDelta) + Encoder.sizeOfVarInt(offsetDelta) + Encoder.sizeOfVarIntBytes(key) + Encoder.sizeOfVarIntBytes(value)
      + Encoder.sizeOfVarInt(headers.length);
    for (const header of headers) {
      const keySize = Buffer.byteLength(header.key);
      const valueSize = Buffer.byteLength(header.value as string);
      size += Encoder.sizeOfVarInt(keySize) + keySize + (header.value === null ? Encoder.sizeOfVarInt(-1) : Encoder.sizeOfVarInt(valueSize) + valueSize);
    }
    return size;
  };
  const headerList = (headers: Record<string, unknown>) => Object.keys(headers).flatMap((key) => {
    const value = headers[key];
    return Array.isArray(value) ? value.map((one: unknown) => ({ key, value: one })) : [{ key, value }];
  });
  /** Bytes to start the request's buffer with: the values and keys, and room for the rest. */
  const estimate = (args: ProduceArgs) => {
    let bytes = 256;
    for (const { partitions } of args.topicData) {
      for (const { messages } of partitions) {
        for (const { key, value } of messages) bytes += 32 + (Buffer.isBuffer(value) ? value.length : 0) + (Buffer.isBuffer(key) ? key.length : 0);
      }
    }
    return bytes;
  };
  /** One partition's record batch (kafkajs's recordBatch/v0, uncompressed), written where `encoder` is. */
  const writeRecordBatch = (encoder: ProduceEncoder, transactional: boolean, producerId: unknown, producerEpoch: number, firstSequence: number, messages: ProduceMessage[]) => {
    const dateNow = Date.now();
    // kafkajs's own order: Array.prototype.sort without a comparator (the timestamps as strings).
    const timestamps = messages.map((m) => m.timestamp).filter((t) => t != null).sort();
    const firstTimestamp = timestamps.length === 0 ? dateNow : timestamps[0]!;
    const maxTimestamp = timestamps.length === 0 ? dateNow : timestamps[timestamps.length - 1]!;
    encoder.writeInt64(Long.fromInt(0));
    const lengthAt = encoder.offset;
    encoder.writeInt32(0).writeInt32(0).writeInt8(MAGIC_BYTE);
    const crcAt = encoder.offset;
    encoder.writeUInt32(0);
    const bodyAt = encoder.offset;
    encoder.writeInt16(transactional ? TRANSACTIONAL : 0).writeInt32(messages.length - 1).writeInt64(firstTimestamp).writeInt64(maxTimestamp)
      .writeInt64(producerId).writeInt16(producerEpoch).writeInt32(firstSequence).writeInt32(messages.length);
    for (let offsetDelta = 0; offsetDelta < messages.length; offsetDelta++) {
      const { key, value, headers = {}, timestamp } = messages[offsetDelta]!;
      const timestampDelta = ((timestamp || dateNow) as number) - (firstTimestamp as number);
      const headersArray = headerList(headers);
      encoder.writeVarInt(recordBodySize(timestampDelta, offsetDelta, key, value, headersArray)).writeInt8(0).writeVarLong(timestampDelta)
        .writeVarInt(offsetDelta).writeVarIntBytes(key).writeVarIntBytes(value).writeVarInt(headersArray.length);
      for (const header of headersArray) encoder.writeVarIntString(header.key).writeVarIntBytes(header.value);
    }
    const { buf, offset } = encoder;
    buf.writeUInt32BE(crc32c(buf.subarray(bodyAt, offset)), crcAt);
    buf.writeInt32BE(offset - lengthAt - 4, lengthAt);
  };
  return (args: ProduceArgs): ProduceRequest => {
    const request = kafkajsRequest(args);
    const { acks, timeout, transactionalId = null, producerId = Long.fromInt(-1), producerEpoch = 0, compression = COMPRESSION_NONE, topicData } = args;
    if (compression !== COMPRESSION_NONE) return request;
    request.encode = async () => {
      const encoder = new Encoder(estimate(args));
      encoder.writeString(transactionalId).writeInt16(acks).writeInt32(timeout).writeInt32(topicData.length);
      for (const { topic, partitions } of topicData) {
        encoder.writeString(topic).writeInt32(partitions.length);
        for (const { partition, firstSequence = 0, messages } of partitions) {
          encoder.writeInt32(partition);
          const sizeAt = encoder.offset;
          encoder.writeInt32(0);
          writeRecordBatch(encoder, !!transactionalId, producerId, producerEpoch, firstSequence, messages);
          encoder.buf.writeInt32BE(encoder.offset - sizeAt - 4, sizeAt);
        }
      }
      return encoder;
    };
    return request;
  };
}

/** A request sent to a broker, framed as kafkajs's protocol/request.js frames it, its payload copied once instead of twice. */
function requestFrame(Encoder: ProduceEncoderClass) {
  return async ({ correlationId, clientId, request: { apiKey, apiVersion, encode } }: { correlationId: number; clientId: string; request: { apiKey: number; apiVersion: number; encode(): Promise<Encoder> } }) => {
    const payload = await encode();
    const frame = new Encoder(14 + Buffer.byteLength(clientId ?? '') + payload.offset);
    frame.writeInt32(0).writeInt16(apiKey).writeInt16(apiVersion).writeInt32(correlationId).writeString(clientId).writeEncoder(payload);
    frame.buf.writeInt32BE(frame.offset - 4, 0);
    return frame;
  };
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
  const encoderFile = require.resolve('kafkajs/src/protocol/encoder.js');
  const Encoder = require(encoderFile) as EncoderClass;
  const Long = require('kafkajs/src/utils/long.js') as LongClass & { fromInt(value: number): unknown };
  const decodeRecord = recordDecoder(Long, require('kafkajs/src/protocol/recordBatch/header/v0/decoder.js') as (decoder: Decoder) => { key: string; value: Buffer | null });
  // Node's ESM loader enters a CommonJS module that an ESM module imports in the cache before running it.
  const produceFile = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
  const frameFile = require.resolve('kafkajs/src/protocol/request.js');
  let produce: unknown;
  let frame: unknown;
  if (require.cache[require.resolve('kafkajs')]?.loaded !== true) {
    replaceModule('producer/groupMessagesPerPartition.js', groupMessagesPerPartition);
    replaceModule('protocol/recordBatch/crc32C/index.js', crc32c);
    replaceModule('protocol/encoder.js', pooledEncoder(Encoder));
    replaceModule('protocol/recordBatch/record/v0/decoder.js', decodeRecord);
    // Loaded after the Encoder's replacement, so that kafkajs's own request (a compressed one) takes the pooled Encoder.
    produce = produceRequest(require(encoderFile) as ProduceEncoderClass, Long, require(produceFile) as (args: ProduceArgs) => ProduceRequest);
    replaceModule('protocol/requests/produce/v3/request.js', produce);
    frame = requestFrame(require(encoderFile) as ProduceEncoderClass);
    replaceModule('protocol/request.js', frame);
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
    && require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js') === decodeRecord
    && require(produceFile) === produce
    && require(frameFile) === frame;
})();

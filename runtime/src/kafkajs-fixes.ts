import { createRequire } from 'node:module';

/**
 * Two hot paths of kafkajs 2.2.4's producer, replaced by functions that return the same: kafkajs is
 * unmaintained since that release (the fix for the first has waited since 2023), and in a
 * co-located processor these two were nearly half of everything it allocated. Applied only to that
 * release; kafkajs-fixes.test.ts checks each against kafkajs's own code.
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

/** The part of kafkajs's protocol Encoder the varint writers below use. */
interface Encoder {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
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

const require = createRequire(import.meta.url);

/** kafkajs's version where its files are there to change; undefined in the agent's single-file bundle (packaging/), whose sends are one tick of one host's GPUs. */
function installedKafkajs(): string | undefined {
  try {
    return (require('kafkajs/package.json') as { version: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * Whether kafkajs runs with the functions above. kafkajs's sendMessages.js takes the grouping
 * module's export when kafkajs loads, so this module has to run before anything loads kafkajs: it is
 * the first import of every runtime module that imports kafkajs's values.
 */
export const kafkajsFixed: boolean = (() => {
  if (installedKafkajs() !== KAFKAJS_FIXED_VERSION) return false;
  const grouping = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
  if (require.cache[require.resolve('kafkajs/src/producer/sendMessages.js')] === undefined) {
    require(grouping);
    require.cache[grouping]!.exports = groupMessagesPerPartition;
  }
  const EncoderClass = require('kafkajs/src/protocol/encoder.js') as {
    prototype: { writeUVarInt(value: number): Encoder; writeVarLong(value: unknown): Encoder };
    sizeOfVarLong(value: unknown): number;
  };
  const { writeVarLong } = EncoderClass.prototype;
  const sizeOfVarLong = EncoderClass.sizeOfVarLong.bind(EncoderClass);
  EncoderClass.prototype.writeUVarInt = function (this: Encoder, value: number) {
    // kafkajs's loop shifts a JavaScript number (signed) unsigned: what it writes is value >>> 0's varint.
    writeUnsigned(this, value >>> 0);
    return this;
  };
  EncoderClass.prototype.writeVarLong = function (this: Encoder, value: unknown) {
    const zigZag = smallZigZag(value);
    if (zigZag === undefined) return writeVarLong.call(this, value);
    writeUnsigned(this, zigZag);
    return this;
  };
  EncoderClass.sizeOfVarLong = (value: unknown) => {
    const zigZag = smallZigZag(value);
    return zigZag === undefined ? sizeOfVarLong(value) : varintBytes(zigZag);
  };
  return require(grouping) === groupMessagesPerPartition;
})();

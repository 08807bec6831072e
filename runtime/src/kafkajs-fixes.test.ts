import './kafka.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupMessagesPerPartition, kafkajsFixed, type GroupingArgs } from './kafkajs-fixes.js';

const require = createRequire(import.meta.url);

/** A kafkajs module evaluated from its file, apart from the module cache and the classes the runtime changed. */
function kafkajsOwn<T>(path: string): T {
  const file = require.resolve(`kafkajs/src/${path}`);
  const module = { exports: {} as unknown };
  new Function('module', 'require', readFileSync(file, 'utf8'))(module, createRequire(file));
  return module.exports as T;
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
});

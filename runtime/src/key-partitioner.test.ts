import fc from 'fast-check';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyPartitioner } from './key-partitioner.js';

function partitions(count: number): PartitionerArgs['partitionMetadata'] {
  return Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));
}

const key = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.uuid().map((u) => `GPU-${u}`),
  fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes)),
);

describe('keyPartitioner', () => {
  it('puts every key in the partition kafkajs\'s DefaultPartitioner (the Java client\'s murmur2) does', () => {
    const ours = keyPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    fc.assert(fc.property(key, fc.integer({ min: 1, max: 1000 }), (k, count) => {
      const args = { topic: 't', partitionMetadata: partitions(count), message: { key: k, value: null } };
      expect(ours(args)).toBe(theirs(args));
    }), { numRuns: 20_000 });
  });

  it('keeps a partition the message names, and spreads messages without a key over the partitions', () => {
    const ours = keyPartitioner();
    expect(ours({ topic: 't', partitionMetadata: partitions(6), message: { key: 'GPU-1', partition: 4, value: null } })).toBe(4);
    const unkeyed = new Set(Array.from({ length: 12 }, () => ours({ topic: 't', partitionMetadata: partitions(6), message: { key: null, value: null } })));
    expect(unkeyed.size).toBe(6);
  });
});

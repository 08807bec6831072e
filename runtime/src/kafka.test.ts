import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyPartitioner } from './kafka.js';

const metadata = (count: number): PartitionerArgs['partitionMetadata'] =>
  Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));

describe('keyPartitioner', () => {
  it('puts every key where kafkajs\'s Java-compatible partitioner does, on each call and under each partition count', () => {
    const remembering = keyPartitioner();
    const hashing = Partitioners.DefaultPartitioner();
    const keys = Array.from({ length: 500 }, (_, i) => `GPU-${String(i).padStart(8, '0')}-0000-0000-0000-000000000000`);
    for (const count of [6, 6, 7, 1, 6]) {
      for (const key of keys) {
        const args = { topic: 'gpu.samples.v1', partitionMetadata: metadata(count), message: { key, value: null } };
        expect(remembering(args)).toBe(hashing(args));
      }
    }
    const spread = new Set(keys.map((key) => remembering({ topic: 't', partitionMetadata: metadata(6), message: { key, value: null } })));
    expect(spread.size).toBe(6);
  });

  it('keeps a partition the message names, and hashes Buffer keys', () => {
    const partition = keyPartitioner();
    const key = 'GPU-00000001-0000-0000-0000-000000000000';
    const hashed = partition({ topic: 't', partitionMetadata: metadata(6), message: { key, value: null } });
    const named = (hashed + 1) % 6;
    expect(partition({ topic: 't', partitionMetadata: metadata(6), message: { key, value: null, partition: named } })).toBe(named);
    expect(partition({ topic: 't', partitionMetadata: metadata(6), message: { key: Buffer.from(key), value: null } })).toBe(hashed);
  });
});

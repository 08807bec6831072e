import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@gpumon/runtime/log';
import { withClient } from '@gpumon/runtime/database';
import { describeChunksBeingWritten, projectedBytes, readChunksBeingWritten, type ChunkBeingWritten } from './chunks-being-written.js';
import { migrate } from './migrate.js';
import { scratchDatabase } from './scratch-database.js';

const MB = 1024 ** 2;
const chunk = (hypertable: string, rangeS: number, writtenS: number, bytes: number): ChunkBeingWritten => ({ hypertable, rangeS, writtenS, bytes });

describe('projectedBytes', () => {
  it('scales the size so far to the whole range, from the oldest row', () => {
    expect(projectedBytes(chunk('gpu_samples', 21_600, 5_400, 100 * MB))).toBe(400 * MB);
  });

  it('projects nothing from a chunk younger than a minute', () => {
    expect(projectedBytes(chunk('gpu_samples', 21_600, 59, 100 * MB))).toBeUndefined();
  });

  it('takes the size as it is when the oldest row is older than the range (clocks apart)', () => {
    expect(projectedBytes(chunk('gpu_samples', 3_600, 7_200, 100 * MB))).toBe(100 * MB);
  });
});

describe('describeChunksBeingWritten', () => {
  it('says the chunks fit, the largest first', () => {
    expect(describeChunksBeingWritten({
      chunks: [chunk('gpu_health', 86_400, 43_200, 50 * MB), chunk('gpu_samples', 21_600, 10_800, 200 * MB), chunk('gpu_alerts', 604_800, 30, MB)],
      sharedBuffersBytes: 2048 * MB,
    })).toBe('chunks being written: 500 MB when whole at this rate (gpu_samples 400 MB of 6 h, gpu_health 100 MB of 1 d), within shared_buffers 2.0 GB');
  });

  it('names the table and what to change when they will not fit', () => {
    expect(describeChunksBeingWritten({
      chunks: [chunk('gpu_samples', 21_600, 600, 1024 * MB), chunk('gpu_workload_costs', 86_400, 600, 512 * MB)],
      sharedBuffersBytes: 2048 * MB,
    })).toBe('chunks being written: 108.0 GB when whole at this rate (gpu_workload_costs 72.0 GB of 1 d, gpu_samples 36.0 GB of 6 h), '
      + 'more than shared_buffers 2.0 GB: their indexes will outgrow memory and writes slow down; shorter chunk intervals (docs/retention.md, "A larger fleet")');
  });

  it('says when no chunk is old enough to tell', () => {
    expect(describeChunksBeingWritten({ chunks: [chunk('gpu_samples', 21_600, 10, MB)], sharedBuffersBytes: 2048 * MB }))
      .toBe('chunks being written: none written for a minute yet');
  });
});

describe('readChunksBeingWritten', () => {
  const db = scratchDatabase();
  beforeAll(async () => {
    await db.create();
    await migrate(db.settings, createLogger('chunks-test'));
  });
  afterAll(() => db.drop());

  const insertSamples = (count: number) => withClient(db.settings, (c) => c.query(
    `INSERT INTO gpu_samples (time, gpu_uuid, mig_instances, xid_events)
     SELECT now(), 'GPU-chunks-' || n, '[]', '[]' FROM generate_series(1, $1::int) AS n`, [count]));

  it('reads the chunk of each gpumon table that holds now: its range, how long since its oldest row, its size; and shared_buffers', async () => {
    await insertSamples(100);
    const first = await withClient(db.settings, readChunksBeingWritten);
    await insertSamples(5_000);
    const { chunks, sharedBuffersBytes } = await withClient(db.settings, readChunksBeingWritten);
    const expectedBuffers = await withClient(db.settings, (c) => c.query<{ bytes: string }>(
      `SELECT setting::bigint * current_setting('block_size')::bigint AS bytes FROM pg_settings WHERE name = 'shared_buffers'`));

    // Only the table written to has a chunk holding now; the rollups' own hypertables are not gpumon's tables.
    expect(chunks.map((c) => c.hypertable)).toEqual(['gpu_samples']);
    const [samples] = chunks;
    expect(samples!.rangeS).toBe(6 * 3600);
    // The first rows went in just before: seconds ago, not the hours since the range began.
    expect(samples!.writtenS).toBeGreaterThanOrEqual(0);
    expect(samples!.writtenS).toBeLessThan(60);
    expect(samples!.bytes).toBeGreaterThan(first.chunks[0]!.bytes);
    expect(sharedBuffersBytes).toBe(Number(expectedBuffers.rows[0]!.bytes));
  });
});

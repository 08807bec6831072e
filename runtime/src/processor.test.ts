import { describe, expect, it } from 'vitest';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { Counters } from './counters.js';
import { Registry } from './metrics.js';
import { createBatchTransform, transformEach, type BatchTransform, type NamedTransform, type RecordProcessor } from './processor.js';

const samples = ['GPU-a', 'GPU-b', 'GPU-c'].map((gpu_uuid) => ({ gpu_uuid, power_draw_w: 100 }) as unknown as GpuSample);

/** A record processor as a processor package declares one; it refuses GPU-b. */
const picky: RecordProcessor<'samples', 'health'> = {
  name: 'picky', description: 'refuses GPU-b', input: 'samples', outputs: ['health'], options: {},
  create: () => (sample) => {
    if (sample.gpu_uuid === 'GPU-b') throw new Error(`picky refuses ${sample.gpu_uuid}`);
    return [{ stream: 'health', record: { gpu_uuid: sample.gpu_uuid } as never }];
  },
};

/** A batch transform that records what it was given. */
function recording(seen: Array<ReadonlyArray<GpuSample>>): BatchTransform<'samples', 'economics'> {
  return {
    transformBatch: (records) => {
      seen.push(records);
      return Promise.resolve(records.map((r) => [{ stream: 'economics' as const, record: { gpu_uuid: r.gpu_uuid } as never }, { stream: 'economics' as const, record: { gpu_uuid: `${r.gpu_uuid}'` } as never }]));
    },
  };
}

describe('transformEach: several processors on one decoded batch', () => {
  it('gives every transform the same decoded records once, and each record every transform\'s result in order', async () => {
    const seenA: Array<ReadonlyArray<GpuSample>> = [];
    const seenB: Array<ReadonlyArray<GpuSample>> = [];
    const stages: Array<NamedTransform<'samples', 'economics'>> = [{ name: 'a', transform: recording(seenA) }, { name: 'b', transform: recording(seenB) }];
    const results = await transformEach(stages, samples);
    expect(seenA).toHaveLength(1);
    expect(seenB).toHaveLength(1);
    expect(seenA[0]).toBe(samples);
    expect(seenB[0]).toBe(samples);
    expect(results.map((perStage) => perStage.map((r) => (r instanceof Error ? r.message : r.map((o) => o.record.gpu_uuid))))).toEqual([
      [['GPU-a', "GPU-a'"], ['GPU-a', "GPU-a'"]],
      [['GPU-b', "GPU-b'"], ['GPU-b', "GPU-b'"]],
      [['GPU-c', "GPU-c'"], ['GPU-c', "GPU-c'"]],
    ]);
  });

  it('a record one transform refuses is an error for that transform alone; the others\' outputs of it stand', async () => {
    const stages = [
      { name: 'picky', transform: await createBatchTransform(picky, {}) },
      { name: 'b', transform: recording([]) },
    ] as Array<NamedTransform<'samples', 'health' | 'economics'>>;
    const results = await transformEach(stages, samples);
    expect(results[0]![0]).toEqual([{ stream: 'health', record: { gpu_uuid: 'GPU-a' } }]);
    expect(results[1]![0]).toBeInstanceOf(Error);
    expect((results[1]![0] as Error).message).toBe('picky refuses GPU-b');
    expect(results[1]![1]).toHaveLength(2);
    expect(results[2]!.every((r) => Array.isArray(r))).toBe(true);
  });

  it('a transform that answers for fewer records than it was given fails those records by its name', async () => {
    const short: BatchTransform<'samples', 'economics'> = { transformBatch: (records) => Promise.resolve(records.slice(1).map(() => [])) };
    const results = await transformEach([{ name: 'short', transform: short }], samples);
    expect(results.map(([r]) => (r instanceof Error ? r.message : 'ok'))).toEqual(['ok', 'ok', 'short returned no result for this record']);
  });

  it('a transform that fails as a whole fails the batch, as it would alone', async () => {
    const broken: BatchTransform<'samples', 'economics'> = { transformBatch: () => Promise.reject(new Error('model session lost')) };
    await expect(transformEach([{ name: 'ok', transform: recording([]) }, { name: 'broken', transform: broken }], samples)).rejects.toThrow('model session lost');
  });
});

describe('Counters of co-located processors', () => {
  it('share one registry, one series per component', async () => {
    const registry = new Registry();
    const shell = new Counters(registry, 'processors');
    const health = new Counters(registry, 'score-health');
    shell.add('received', 3);
    health.add('sent', 2);
    health.deadLettered('transform_failed');
    const body = await registry.metrics();
    expect(body).toContain('gpumon_records_received_total{component="processors"} 3');
    expect(body).toContain('gpumon_records_sent_total{component="score-health"} 2');
    expect(body).toContain('gpumon_dead_letters_total{component="score-health",reason="transform_failed"} 1');
  });
});

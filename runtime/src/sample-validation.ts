import { nonFinitePaths, sampleProblems } from '@gpumon/schemas/sample-bounds';
import type { Stream } from '@gpumon/schemas/topics';
import type { GpuSample, StreamRecords } from '@gpumon/schemas/types.generated';
import { GpumonError } from './errors.js';

/**
 * Rejects a record that decoded fine but cannot be true, naming the GPU, the fields and the values:
 * a sample against its bounds (schemas/sample-bounds.md), any other record when a number is NaN or
 * ±Infinity. Every consumer calls this on every record, so the processors and the sink dead-letter
 * the same ones. Time is judged against the Kafka message's own timestamp, not the wall clock, so
 * a replay judges the same record the same way.
 */
export function validateRecord<S extends Stream>(stream: S, record: StreamRecords[S], messageTimestampMs: number): void {
  const problems = stream === 'samples'
    ? sampleProblems(record as GpuSample, messageTimestampMs)
    : nonFinitePaths(record).map((field) => `${field} is not a finite number`);
  if (problems.length > 0) {
    const { gpu_uuid: gpu, hostname } = record as { gpu_uuid?: string; hostname?: string };
    const what = stream === 'samples' ? 'sample' : `${stream} record`;
    const from = gpu === undefined ? '' : ` from GPU ${gpu}${hostname === undefined ? '' : ` on ${hostname}`}`;
    throw new GpumonError('validation_failed', `impossible ${what}${from}: ${problems.join('; ')}`);
  }
}

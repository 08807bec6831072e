import { recordProblems } from '@gpumon/schemas/sample-bounds';
import type { Stream } from '@gpumon/schemas/topics';
import type { StreamRecords } from '@gpumon/schemas/types.generated';
import { GpumonError } from './errors.js';

/**
 * Rejects a record that decoded fine but cannot be true, naming the GPU, the fields and the values:
 * any record against its stream's bounds (schemas/sample-bounds.md), NaN and ±Infinity included.
 * Every consumer calls this on every record, so the processors, the sink and the forwarder
 * dead-letter the same ones. Time is judged against the Kafka message's own timestamp, not the
 * wall clock, so a replay judges the same record the same way.
 */
export function validateRecord<S extends Stream>(stream: S, record: StreamRecords[S], messageTimestampMs: number): void {
  // A dead letter carries whatever was refused: the people and tools reading gpu.dlq.v1 must see it as it came.
  if (stream === 'dlq') return;
  const problems = recordProblems(stream, record as StreamRecords[typeof stream], messageTimestampMs);
  if (problems.length > 0) {
    const { gpu_uuid: gpu, hostname } = record as { gpu_uuid?: string; hostname?: string };
    const what = stream === 'samples' ? 'sample' : `${stream} record`;
    const from = gpu === undefined ? '' : ` from GPU ${gpu}${hostname === undefined ? '' : ` on ${hostname}`}`;
    throw new GpumonError('validation_failed', `impossible ${what}${from}: ${problems.join('; ')}`);
  }
}

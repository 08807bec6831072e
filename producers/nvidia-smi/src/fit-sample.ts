import type { GpuSample } from '@gpumon/schemas/types.generated';

/**
 * Bytes of one encoded sample the agent sends at most. Kafka refuses a record over the topic's
 * max.message.bytes (1 MiB by default); a GPU's sample is a few KB, so one this large is a sample
 * whose lists ran away (thousands of processes, a process storm of attribution problems).
 */
export const MAX_SAMPLE_BYTES = 256 * 1024;

export interface FittedSample {
  sample: GpuSample;
  value: Buffer;
  /** Set when the lists were cut: what was cut, as also added to the sample's attribution_problems. */
  trimmed?: string;
}

/**
 * The sample and its encoding, within `maxBytes`: where it is larger, its processes, workloads
 * (and each one's pids) and attribution problems are cut to the same, halving share until it fits,
 * and a problem says so. The readings are never cut, so a sample always gets through; one still
 * too large with empty lists is returned as it is (the spool sender gives it up, counted).
 */
export function fitSample(sample: GpuSample, encode: (sample: GpuSample) => Buffer, maxBytes = MAX_SAMPLE_BYTES): FittedSample {
  const value = encode(sample);
  if (value.length <= maxBytes) return { sample, value };
  let cut: FittedSample | undefined;
  for (let share = 0.5; cut === undefined || cut.value.length > maxBytes; share /= 2) {
    const keep = <T>(list: readonly T[]): T[] => list.slice(0, share < 1e-6 ? 0 : Math.ceil(list.length * share));
    const processes = sample.processes === null ? null : keep(sample.processes);
    const workloads = sample.workloads === null ? null : keep(sample.workloads).map((w) => ({ ...w, pids: keep(w.pids) }));
    const problems = keep(sample.attribution_problems);
    const trimmed = `sample of ${value.length} bytes is over the agent's ${maxBytes}: cut to ${count(processes, sample.processes)} processes, ${count(workloads, sample.workloads)} workloads (and their pids), ${problems.length} of ${sample.attribution_problems.length} attribution problems`;
    const smaller = { ...sample, processes, workloads, attribution_problems: [...problems, trimmed] };
    cut = { sample: smaller, value: encode(smaller), trimmed };
    if (share < 1e-6) break;
  }
  return cut;
}

function count(kept: readonly unknown[] | null, all: readonly unknown[] | null): string {
  return `${kept?.length ?? 0} of ${all?.length ?? 0}`;
}

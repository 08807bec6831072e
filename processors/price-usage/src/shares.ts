import type { GpuProcess, GpuSample, Workload } from '@gpumon/schemas/types.generated';
import { dividedBy, exact, plus, sign, times, type Ratio } from './exact.js';

/** The fraction of a GPU's interval one workload is charged; workload null: the part no workload holds. */
export interface Share {
  workload: Workload | null;
  share: Ratio;
}

/** A part of the GPU split on its own: the whole GPU, or one MIG slice (GPU instance). */
interface Domain {
  /** Its fraction of the GPU. */
  weight: Ratio;
  workloads: Workload[];
  /** Processes on it that belong to no workload of the sample. */
  unattributed: GpuProcess[];
}

const ONE: Ratio = { num: 1, den: 1 };
const NONE: Ratio = { num: 0, den: 1 };
const FEW_WORKLOADS = 16;

/**
 * Who is charged what fraction of a GPU's interval, exactly, the fractions adding up to 1. Within the
 * GPU, or within each MIG slice, by the memory the workloads' processes hold, processes of no
 * workload counting as one more holder (the unattributed part); evenly where no memory is read; all
 * of it unattributed where no workload is. On MIG each slice is first given its fraction of the GPU
 * by its memory total. One share per workload id, in the sample's order, the unattributed part last
 * and only where it holds something. Null attribution (off, or an older producer): no shares at all.
 */
export function sharesOf(sample: GpuSample): Share[] {
  if (sample.workloads === null) return [];
  const { workloads } = sample;
  // A GPU holds a few workloads, and building a Set for them cost more than the rest of the split;
  // a record that lists thousands (bounded only by the message size) gets one, so it costs no more than before.
  const ids = workloads.length <= FEW_WORKLOADS ? undefined : new Set(workloads.map((w) => w.workload_id));
  const known = (id: string) => (ids === undefined ? workloads.some((w) => w.workload_id === id) : ids.has(id));
  const unattributed = (sample.processes ?? []).filter((p) => p.workload_id === null || !known(p.workload_id));
  const domains = migDomains(sample, unattributed) ?? [{ weight: ONE, workloads, unattributed }];

  const byWorkload = new Map<string | null, Share>();
  for (const domain of domains) {
    for (const { workload, share } of withinDomain(domain)) {
      const id = workload?.workload_id ?? null;
      const part = times(domain.weight, share);
      const earlier = byWorkload.get(id);
      byWorkload.set(id, { workload: earlier?.workload ?? workload, share: earlier === undefined ? part : plus(earlier.share, part) });
    }
  }
  const nobody = byWorkload.get(null);
  byWorkload.delete(null);
  return nobody === undefined || sign(nobody.share.num) === 0 ? [...byWorkload.values()] : [...byWorkload.values(), nobody];
}

function withinDomain({ workloads, unattributed }: Domain): Share[] {
  if (workloads.length === 0) return [{ workload: null, share: ONE }];
  const holders: Array<{ workload: Workload | null; memory: Ratio | null }> = workloads.map((workload) => ({ workload, memory: mib(workload.used_memory_mib) }));
  if (unattributed.length > 0) holders.push({ workload: null, memory: memoryOf(unattributed) });
  const total = holders.reduce((sum, h) => plus(sum, h.memory ?? NONE), NONE);
  return holders.map(({ workload, memory }) => ({
    workload,
    share: sign(total.num) === 0 ? { num: 1, den: holders.length } : dividedBy(memory ?? NONE, total),
  }));
}

/** Memory the processes hold (MiB); null when none of them is read. */
function memoryOf(processes: GpuProcess[]): Ratio | null {
  const read = processes.map((p) => mib(p.used_memory_mib)).filter((m) => m !== null);
  return read.length === 0 ? null : read.reduce(plus, NONE);
}

/** A memory figure (MiB) as an exact weight; null when not read, and for a negative or non-finite one. */
function mib(value: number | null): Ratio | null {
  return value !== null && Number.isFinite(value) && value >= 0 ? exact(value) : null;
}

/**
 * The GPU's MIG slices, each weighted by its memory total over theirs (evenly where a total is
 * missing), with the workloads and unattributed processes on it; undefined where the GPU is not
 * split, or where a workload or process cannot be placed on a listed slice: the GPU is then split
 * as one.
 */
function migDomains(sample: GpuSample, unattributed: GpuProcess[]): Domain[] | undefined {
  const slices = new Map<number, number | null>();
  for (const instance of sample.mig_instances) {
    // One entry per compute instance: a GPU instance with two lists its memory twice.
    if (!slices.has(instance.gpu_instance_id)) slices.set(instance.gpu_instance_id, instance.memory_total_mib);
  }
  if (slices.size === 0) return undefined;
  const byMigUuid = new Map(sample.mig_instances.flatMap((m) => (m.mig_uuid === null ? [] : [[m.mig_uuid, m.gpu_instance_id] as const])));
  const sliceOf = (id: number | null | undefined) => (id !== null && id !== undefined && slices.has(id) ? id : undefined);
  const workloadSlices = (sample.workloads ?? []).map((w) => sliceOf(w.gpu_instance_id ?? (w.device_uuid === null ? null : byMigUuid.get(w.device_uuid))));
  const processSlices = unattributed.map((p) => sliceOf(p.gpu_instance_id));
  if (workloadSlices.includes(undefined) || processSlices.includes(undefined)) return undefined;

  const memories = [...slices.values()].map(mib);
  const byMemory = memories.every((m) => m !== null && m.num > 0);
  const total = memories.reduce((sum: Ratio, m) => plus(sum, m ?? NONE), NONE);
  return [...slices.keys()].map((id, i) => ({
    weight: byMemory ? dividedBy(memories[i]!, total) : { num: 1, den: slices.size },
    workloads: (sample.workloads ?? []).filter((_, i) => workloadSlices[i] === id),
    unattributed: unattributed.filter((_, i) => processSlices[i] === id),
  }));
}

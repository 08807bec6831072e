import type { Workload } from '@gpumon/schemas/types.generated';

/**
 * A pod container or a Slurm job as it stays for its whole tenancy; each reading adds where it
 * runs (device UUID, MIG instance), its pids and the memory they hold.
 */
export interface Tenant {
  readonly identity: Omit<Workload, 'device_uuid' | 'gpu_instance_id' | 'pids' | 'used_memory_mib'>;
  /** Its process's name as nvidia-smi lists it. */
  readonly processName: string;
  /** Its share of the GPU's memory against the other tenant of a time-sliced GPU. */
  readonly memoryWeight: number;
}

/** One of `items`, from a uniform draw. */
export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

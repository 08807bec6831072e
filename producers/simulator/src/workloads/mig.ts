import type { GpuModel } from '../gpu-models.js';

/** One MIG GPU instance of a board's layout. */
export interface MigSlice {
  profile: string;
  gpuInstanceId: number;
  memoryTotalMib: number;
}

/**
 * Memory of each profile as nvidia-smi reports it for the MIG device (MiB); the boards without an
 * entry have no MIG.
 */
const PROFILE_MEMORY_MIB: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'NVIDIA H100 80GB HBM3': { '1g.10gb': 9984, '2g.20gb': 20224, '3g.40gb': 40704, '4g.40gb': 40704 },
  'NVIDIA A100-SXM4-80GB': { '1g.10gb': 9728, '2g.20gb': 19968, '3g.40gb': 40192, '4g.40gb': 40192 },
};

/** Layouts operators commonly configure, as [profile, GPU instance id] in the ids the driver gives their placements. */
const LAYOUTS: ReadonlyArray<ReadonlyArray<readonly [string, number]>> = [
  [['3g.40gb', 1], ['3g.40gb', 2]],
  [['4g.40gb', 1], ['2g.20gb', 5], ['1g.10gb', 13]],
  [['3g.40gb', 2], ['2g.20gb', 3], ['1g.10gb', 9], ['1g.10gb', 10]],
  [['1g.10gb', 7], ['1g.10gb', 8], ['1g.10gb', 9], ['1g.10gb', 10], ['1g.10gb', 11], ['1g.10gb', 12], ['1g.10gb', 13]],
];

export function supportsMig(model: GpuModel): boolean {
  return PROFILE_MEMORY_MIB[model.productName] !== undefined;
}

/** A layout for a board that supports MIG, from a uniform draw. */
export function migLayout(model: GpuModel, u: number): MigSlice[] {
  const memory = PROFILE_MEMORY_MIB[model.productName];
  if (memory === undefined) throw new Error(`${model.productName} has no MIG`);
  const layout = LAYOUTS[Math.floor(u * LAYOUTS.length)] as ReadonlyArray<readonly [string, number]>;
  return layout.map(([profile, gpuInstanceId]) => ({ profile, gpuInstanceId, memoryTotalMib: memory[profile] as number }));
}

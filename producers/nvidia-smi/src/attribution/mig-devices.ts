/** One MIG device (a compute instance in a GPU instance) of a GPU, as `nvidia-smi -L` lists it. */
export interface MigDevice {
  gpuUuid: string;
  /** `MIG-<uuid>` (drivers R470+), or `MIG-GPU-<gpu uuid>/<gi>/<ci>` (R450/R460): the id CUDA and the device plugin use. */
  migUuid: string;
  /** `1g.5gb`, `1g.10gb+me`, `1c.3g.20gb` (a compute instance smaller than its GPU instance). */
  profile: string | null;
  /** Only the R450/R460 UUID carries the instance ids; `nvidia-smi -q -x` has them for newer drivers. */
  gpuInstanceId: number | null;
  computeInstanceId: number | null;
}

/** `GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-5d5ba0d6-…)`; R450/R460 print the name without `NVIDIA `. */
const GPU_LINE = /^GPU \d+: .*\(UUID: (GPU-[^)\s]+)\)\s*$/;
/** `  MIG 1g.5gb      Device  0: (UUID: MIG-c6d4f1ef-…)`, or with single spaces on R450/R460. */
const MIG_LINE = /^\s*MIG (?:(\S+)\s+)?Device\s+\d+: \(UUID: (MIG-[^)\s]+)\)\s*$/;
const LEGACY_MIG_UUID = /^MIG-GPU-[^/]+\/(\d+)\/(\d+)$/;

/**
 * Parses `nvidia-smi -L`: every MIG device under the GPU line it follows. Lines of neither shape
 * (blank, "No devices were found", a GPU line without a UUID) are skipped; a MIG line is only
 * taken under a GPU line that parsed, so it is never put on the wrong GPU.
 */
export function parseNvidiaSmiList(text: string): MigDevice[] {
  const devices: MigDevice[] = [];
  let gpuUuid: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('GPU ')) {
      gpuUuid = GPU_LINE.exec(line)?.[1] ?? null;
      continue;
    }
    const mig = MIG_LINE.exec(line);
    if (mig === null || gpuUuid === null) continue;
    const migUuid = mig[2]!;
    const legacy = LEGACY_MIG_UUID.exec(migUuid);
    devices.push({
      gpuUuid,
      migUuid,
      profile: mig[1] ?? null,
      gpuInstanceId: legacy ? Number(legacy[1]) : null,
      computeInstanceId: legacy ? Number(legacy[2]) : null,
    });
  }
  return devices;
}

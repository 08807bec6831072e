import { schemaOf } from './avro.js';
import type { GpuSample } from './types.generated.js';

/** What stays known about a GPU that stopped answering: who and where it is, not what it reads. */
const IDENTITY = [
  'gpu_uuid', 'hostname', 'source', 'gpu_index', 'serial', 'pci_bus_id', 'product_name', 'architecture',
  'driver_version', 'cuda_version', 'vbios_version', 'nvsmi_schema',
] as const satisfies ReadonlyArray<keyof GpuSample>;

/** Fields that can say "not read" (null); the others that hold lists can only say "none" ([]). */
const NULLABLE: ReadonlySet<string> = new Set(schemaOf('samples').fields.filter((f) => Array.isArray(f.type) && f.type.includes('null')).map((f) => f.name));

/**
 * The explicit record a producer emits for a GPU it saw before that no longer answers (fallen off
 * the bus): its identity from `last`, every reading null, `gpu_lost` true. Consumers get a record,
 * not silence.
 */
export function lostSample(last: GpuSample, time: number): GpuSample {
  const lost: Record<string, unknown> = {};
  // Its processes and workloads are unknown, not none: null where the schema allows it.
  for (const [field, value] of Object.entries(last)) lost[field] = Array.isArray(value) && !NULLABLE.has(field) ? [] : null;
  for (const field of IDENTITY) lost[field] = last[field];
  return { ...(lost as unknown as GpuSample), time, gpu_lost: true };
}

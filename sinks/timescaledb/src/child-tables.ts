import type { Workload, WorkloadCost } from '@gpumon/schemas/types.generated';
import type { Column, ColumnKind, SinkStream } from './tables.js';

/**
 * A table written from one array field of a stream's records: a row per element, in the
 * transaction of the records' own rows. The field is not a column of the stream's table.
 */
export interface ChildTable {
  stream: SinkStream;
  /** The Avro field whose elements are the rows. */
  field: string;
  name: string;
  columns: Column[];
  rowsOf(record: Record<string, unknown>): Array<Record<string, unknown>>;
}

const columns = (kinds: Record<string, ColumnKind>): Column[] => Object.entries(kinds).map(([name, kind]) => ({ name, kind }));

/** gpu.samples.v1 workloads: which pod or job held the GPU (or a MIG slice of it) in each sample. */
const WORKLOAD_SAMPLES: ChildTable = {
  stream: 'samples',
  field: 'workloads',
  name: 'gpu_workload_samples',
  columns: columns({
    time: 'timestamp', gpu_uuid: 'scalar', workload_id: 'scalar', device_uuid: 'scalar', gpu_instance_id: 'scalar', pids: 'json',
    used_memory_mib: 'scalar',
  }),
  rowsOf: (sample) => ((sample.workloads as Workload[] | null | undefined) ?? []).map((w) => ({
    time: sample.time, gpu_uuid: sample.gpu_uuid, workload_id: w.workload_id, device_uuid: w.device_uuid,
    gpu_instance_id: w.gpu_instance_id, pids: w.pids, used_memory_mib: w.used_memory_mib,
  })),
};

/** gpu.economics.v1 workloads: each workload's part of the GPU's interval cost, with the record's currency and interval. */
const WORKLOAD_COSTS: ChildTable = {
  stream: 'economics',
  field: 'workloads',
  name: 'gpu_workload_costs',
  columns: columns({
    time: 'timestamp', gpu_uuid: 'scalar', workload_id: 'scalar', team: 'scalar', share: 'scalar', energy_kwh: 'scalar',
    allocated_cost_micros: 'scalar', used_cost_micros: 'scalar', idle_cost_micros: 'scalar', currency: 'scalar', interval_s: 'scalar',
  }),
  rowsOf: (economics) => ((economics.workloads as WorkloadCost[] | undefined) ?? []).map((part) => ({
    ...part, time: economics.time, gpu_uuid: economics.gpu_uuid, currency: economics.currency, interval_s: economics.interval_s,
  })),
};

const CHILD_TABLES: readonly ChildTable[] = [WORKLOAD_SAMPLES, WORKLOAD_COSTS];

export function childTablesOf(stream: SinkStream): ChildTable[] {
  return CHILD_TABLES.filter((child) => child.stream === stream);
}

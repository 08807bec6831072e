import type { Workload } from '@gpumon/schemas/types.generated';
import { latestPerKey, upsertStatement, writeDimensionRows, type DimensionRow, type DimensionTable, type SightingOf } from './dimension.js';
import type { Alongside } from './table-writer.js';
import { mergeDimension, WrittenRows } from './written-rows.js';

/** The Slurm user is job_user: a column named user would be SQL's USER wherever a query leaves it unqualified. */
const WORKLOADS: DimensionTable = {
  name: 'gpu_workloads',
  key: 'workload_id',
  attributes: ['kind', 'cluster', 'namespace', 'pod', 'pod_uid', 'container', 'job_id', 'job_user', 'account', 'partition', 'source'],
};
const UPSERT = upsertStatement(WORKLOADS);

interface WorkloadSighting {
  workload: Workload;
  time: number;
}

const WORKLOAD_SIGHTING: SightingOf<WorkloadSighting> = {
  key: (s) => s.workload.workload_id,
  time: (s) => s.time,
  attributes: ({ workload: w }) => ({
    kind: w.kind, cluster: w.cluster, namespace: w.namespace, pod: w.pod, pod_uid: w.pod_uid, container: w.container,
    job_id: w.job_id, job_user: w.user, account: w.account, partition: w.partition, source: w.source,
  }),
};

/** The workloads a batch of samples sights, one row each in workload_id order, named as their latest sighting names them. */
export function workloadRows(samples: ReadonlyArray<Record<string, unknown>>): DimensionRow[] {
  const seen: WorkloadSighting[] = [];
  for (const sample of samples) {
    for (const workload of (sample.workloads as Workload[] | null | undefined) ?? []) seen.push({ workload, time: sample.time as number });
  }
  return latestPerKey(seen, WORKLOAD_SIGHTING);
}

/**
 * Brings gpu_workloads up to date with each batch of samples, in the batch's transaction, leaving
 * out rows that would change nothing this sink knows of (WrittenRows). Runs after gpu_devices, and
 * each upsert locks rows in key order, so concurrent sinks cannot deadlock.
 */
export function workloadInventory(): Alongside {
  const workloads = new WrittenRows(WORKLOADS.attributes, mergeDimension);
  return async (client, samples) => {
    const rows = workloads.unwritten(workloadRows(samples));
    await writeDimensionRows(client, WORKLOADS, UPSERT, rows);
    return () => workloads.rememberRows(rows);
  };
}

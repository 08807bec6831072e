import type pg from 'pg';
import type { Workload } from '@gpumon/schemas/types.generated';
import { latestPerKey, upsertStatement, writeDimensionRows, type DimensionRow, type DimensionTable, type SightingOf } from './dimension.js';

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
 * Brings gpu_workloads up to date with a batch of samples, in the caller's transaction. Called
 * after gpu_devices, and each upsert locks rows in key order, so concurrent sinks cannot deadlock.
 */
export async function upsertWorkloads(client: pg.PoolClient, samples: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  await writeDimensionRows(client, WORKLOADS, UPSERT, workloadRows(samples));
}

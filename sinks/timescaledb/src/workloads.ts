import type pg from 'pg';
import type { Workload } from '@gpumon/schemas/types.generated';
import { latestPerKey, upsertStatement, writeDimensionRows, type DimensionRow, type DimensionTable, type Sighting } from './dimension.js';

/** The Slurm user is job_user: a column named user would be SQL's USER wherever a query leaves it unqualified. */
const WORKLOADS: DimensionTable = {
  name: 'gpu_workloads',
  key: 'workload_id',
  attributes: ['kind', 'cluster', 'namespace', 'pod', 'pod_uid', 'container', 'job_id', 'job_user', 'account', 'partition', 'source'],
};
const UPSERT = upsertStatement(WORKLOADS);

/** The workloads a batch of samples sights, one row each in workload_id order, named as their latest sighting names them. */
export function workloadRows(samples: ReadonlyArray<Record<string, unknown>>): DimensionRow[] {
  return latestPerKey(samples.flatMap((sample) => ((sample.workloads as Workload[] | null | undefined) ?? []).map((w): Sighting => ({
    key: w.workload_id,
    time: sample.time as number,
    attributes: {
      kind: w.kind, cluster: w.cluster, namespace: w.namespace, pod: w.pod, pod_uid: w.pod_uid, container: w.container,
      job_id: w.job_id, job_user: w.user, account: w.account, partition: w.partition, source: w.source,
    },
  }))));
}

/**
 * Brings gpu_workloads up to date with a batch of samples, in the caller's transaction. Called
 * after gpu_devices, and each upsert locks rows in key order, so concurrent sinks cannot deadlock.
 */
export async function upsertWorkloads(client: pg.PoolClient, samples: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  await writeDimensionRows(client, WORKLOADS, UPSERT, workloadRows(samples));
}

import type { Workload } from '@gpumon/schemas/types.generated';
import {
  latestPerKey, upsertStatement, writeDimensionRows, type AttributeValue, type DimensionTable, type SightingOf,
} from './dimension.js';
import { fingerprintOf } from './fingerprint.js';
import type { Alongside } from './table-writer.js';
import { itemsOfChangedKeys, mergeDimension, WrittenRows } from './written-rows.js';

/** Each gpu_workloads attribute and the Workload field it holds. The Slurm user is job_user: a column named user would be SQL's USER wherever a query leaves it unqualified. */
const FIELD_OF: Readonly<Record<string, keyof Workload>> = {
  kind: 'kind', cluster: 'cluster', namespace: 'namespace', pod: 'pod', pod_uid: 'pod_uid', container: 'container',
  job_id: 'job_id', job_user: 'user', account: 'account', partition: 'partition', source: 'source',
};
const ATTRIBUTES = Object.keys(FIELD_OF);
const WORKLOADS: DimensionTable = { name: 'gpu_workloads', key: 'workload_id', attributes: ATTRIBUTES };
const UPSERT = upsertStatement(WORKLOADS);

interface WorkloadSighting {
  workload: Workload;
  time: number;
}

const WORKLOAD_SIGHTING: SightingOf<WorkloadSighting> = {
  key: (s) => s.workload.workload_id,
  time: (s) => s.time,
  attributes: ({ workload }) => Object.fromEntries(ATTRIBUTES.map((a) => [a, (workload[FIELD_OF[a]!] as AttributeValue | undefined) ?? null])),
};

/** The fingerprint of a workload's fields in the order of ATTRIBUTES: what WrittenRows has of a row that names it alike. */
const workloadFingerprint = fingerprintOf(ATTRIBUTES.map((a) => FIELD_OF[a]!));

/** Each workload each sample of a batch sights, with the sample's time. */
function sightingsOf(samples: ReadonlyArray<Record<string, unknown>>): WorkloadSighting[] {
  const seen: WorkloadSighting[] = [];
  for (const sample of samples) {
    for (const workload of (sample.workloads as Workload[] | null | undefined) ?? []) seen.push({ workload, time: sample.time as number });
  }
  return seen;
}

/**
 * Brings gpu_workloads up to date with each batch of samples, in the batch's transaction, leaving
 * out rows that would change nothing this sink knows of (WrittenRows). Runs after gpu_devices, and
 * each upsert locks rows in key order, so concurrent sinks cannot deadlock.
 */
export function workloadInventory(): Alongside {
  const workloads = new WrittenRows(WORKLOADS.attributes, mergeDimension);
  const held = ({ workload, time }: WorkloadSighting): boolean => workloads.holds(workload.workload_id, time, workloadFingerprint(workload));
  return async (client, samples) => {
    const changed = itemsOfChangedKeys(sightingsOf(samples), WORKLOAD_SIGHTING.key, held);
    const rows = workloads.unwritten(latestPerKey(changed, WORKLOAD_SIGHTING));
    await writeDimensionRows(client, WORKLOADS, UPSERT, rows);
    return () => workloads.rememberRows(rows);
  };
}

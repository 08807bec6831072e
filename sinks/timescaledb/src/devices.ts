import type pg from 'pg';
import {
  insertMissingStatement, latestPerKey, upsertStatement, writeDimensionRows, type DimensionRow, type DimensionTable, type Sighting,
} from './dimension.js';

const DEVICES: DimensionTable = { name: 'gpu_devices', key: 'gpu_uuid', attributes: ['serial', 'product_name', 'hostname', 'driver_version'] };
const UPSERT_SEEN = upsertStatement(DEVICES);
/** A GPU known only from lost samples still gets its row; one already there is left as it is. */
const INSERT_LOST = insertMissingStatement(DEVICES);

function sightingOf(sample: Record<string, unknown>): Sighting {
  const text = (field: string): string | null => (sample[field] as string | null | undefined) ?? null;
  return {
    key: sample.gpu_uuid as string,
    time: sample.time as number,
    attributes: { serial: text('serial'), product_name: text('product_name'), hostname: text('hostname'), driver_version: text('driver_version') },
  };
}

/**
 * The inventory facts of a batch of samples, one row per GPU in UUID order. A lost sample repeats
 * the identity of the last reading but is not a sighting: a GPU with a real sample in the batch
 * ignores its lost ones, and one known only from lost samples goes to `lost`, which never moves
 * the first or last seen of a row already there.
 */
export function sightings(samples: ReadonlyArray<Record<string, unknown>>): { seen: DimensionRow[]; lost: DimensionRow[] } {
  const seen = latestPerKey(samples.filter((s) => s.gpu_lost !== true).map(sightingOf));
  const seenGpus = new Set(seen.map((row) => row.key));
  const lost = latestPerKey(samples.filter((s) => s.gpu_lost === true && !seenGpus.has(s.gpu_uuid as string)).map(sightingOf));
  return { seen, lost };
}

/** Brings gpu_devices up to date with a batch of samples, in the caller's transaction. */
export async function upsertDevices(client: pg.PoolClient, samples: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  const { seen, lost } = sightings(samples);
  await writeDimensionRows(client, DEVICES, UPSERT_SEEN, seen);
  await writeDimensionRows(client, DEVICES, INSERT_LOST, lost);
}

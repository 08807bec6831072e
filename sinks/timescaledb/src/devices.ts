import type pg from 'pg';

/** One gpu_devices row as a batch of samples has it: identity from its latest sample, first and last time seen. */
export interface DeviceSighting {
  gpu_uuid: string;
  serial: string | null;
  product_name: string | null;
  hostname: string;
  driver_version: string | null;
  first_seen: number;
  last_seen: number;
  /** False when every sample of it in the batch says the GPU is lost (it was not seen). */
  seen: boolean;
}

/**
 * The inventory facts of a batch of samples, one per GPU, ordered by UUID (so concurrent writers
 * lock rows in one order). A lost sample repeats the identity of the last reading but is not a
 * sighting: it never moves first or last seen of a GPU that has real samples.
 */
export function sightings(samples: ReadonlyArray<Record<string, unknown>>): DeviceSighting[] {
  const byGpu = new Map<string, DeviceSighting>();
  for (const sample of samples) {
    const uuid = sample.gpu_uuid as string;
    const time = sample.time as number;
    const seen = sample.gpu_lost !== true;
    const known = byGpu.get(uuid);
    if (known !== undefined && known.seen && !seen) continue;
    const replaces = known === undefined || (seen && !known.seen) || time >= known.last_seen;
    const sighting: DeviceSighting = replaces
      ? {
        gpu_uuid: uuid, serial: (sample.serial as string | null) ?? null, product_name: (sample.product_name as string | null) ?? null,
        hostname: sample.hostname as string, driver_version: (sample.driver_version as string | null) ?? null,
        first_seen: time, last_seen: time, seen,
      }
      : known;
    if (known !== undefined && known.seen === seen) {
      sighting.first_seen = Math.min(known.first_seen, time);
      sighting.last_seen = Math.max(known.last_seen, time);
    }
    byGpu.set(uuid, sighting);
  }
  return [...byGpu.values()].sort((a, b) => (a.gpu_uuid < b.gpu_uuid ? -1 : a.gpu_uuid > b.gpu_uuid ? 1 : 0));
}

const COLUMNS = 'gpu_uuid, serial, product_name, hostname, driver_version, first_seen, last_seen';
const UNNEST = 'SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[])';
/** The identity of whichever side was seen last; a field the newer side lacks (N/A) keeps its known value. */
const latest = (column: string): string =>
  `${column} = CASE WHEN EXCLUDED.last_seen >= gpu_devices.last_seen THEN COALESCE(EXCLUDED.${column}, gpu_devices.${column}) ELSE COALESCE(gpu_devices.${column}, EXCLUDED.${column}) END`;

const UPSERT_SEEN = `INSERT INTO gpu_devices (${COLUMNS}) ${UNNEST}
ON CONFLICT (gpu_uuid) DO UPDATE SET ${['serial', 'product_name', 'hostname', 'driver_version'].map(latest).join(', ')},
  first_seen = LEAST(gpu_devices.first_seen, EXCLUDED.first_seen), last_seen = GREATEST(gpu_devices.last_seen, EXCLUDED.last_seen)`;
/** A GPU known only from lost samples still gets its row; one already there is left as it is. */
const INSERT_LOST = `INSERT INTO gpu_devices (${COLUMNS}) ${UNNEST} ON CONFLICT (gpu_uuid) DO NOTHING`;

function parameters(rows: readonly DeviceSighting[]): unknown[] {
  return [
    rows.map((r) => r.gpu_uuid), rows.map((r) => r.serial), rows.map((r) => r.product_name), rows.map((r) => r.hostname),
    rows.map((r) => r.driver_version), rows.map((r) => new Date(r.first_seen)), rows.map((r) => new Date(r.last_seen)),
  ];
}

/** Brings gpu_devices up to date with a batch of samples, in the caller's transaction. */
export async function upsertDevices(client: pg.PoolClient, samples: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  const all = sightings(samples);
  const seen = all.filter((s) => s.seen);
  const lost = all.filter((s) => !s.seen);
  if (seen.length > 0) await client.query(UPSERT_SEEN, parameters(seen));
  if (lost.length > 0) await client.query(INSERT_LOST, parameters(lost));
}

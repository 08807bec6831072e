import type { Queryable } from './database.js';

/**
 * Which TimescaleDB the server loads. The Apache edition lacks the TSL half: no compression,
 * continuous aggregates or policy jobs, and the migrations take their plain branches there.
 */
export interface TimescaleEdition {
  /** The extension's version in this database, null before migration 0001 created it. */
  version: string | null;
  /** `SHOW timescaledb.license`: 'timescale' is the community edition. */
  license: string;
  name: 'community' | 'apache';
}

export async function readTimescaleEdition(db: Queryable): Promise<TimescaleEdition> {
  const { rows } = await db.query<{ license: string | null; version: string | null }>(
    `SELECT current_setting('timescaledb.license', true) AS license,
            (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS version`,
  );
  const license = rows[0]?.license ?? 'apache';
  return { version: rows[0]?.version ?? null, license, name: license === 'apache' ? 'apache' : 'community' };
}

/** "TimescaleDB 2.28.3 (community edition)", as `npm run stack -- status` words it. */
export function describeEdition(edition: TimescaleEdition): string {
  return `TimescaleDB ${edition.version ?? '(not installed)'} (${edition.name} edition)`;
}

/** Why a test or step that needs compression, continuous aggregates or policies cannot run here; undefined where it can. */
export function communityOnlyReason(edition: TimescaleEdition): string | undefined {
  return edition.name === 'apache'
    ? `${describeEdition(edition)} has no compression, continuous aggregates or policies (they need the community edition)`
    : undefined;
}

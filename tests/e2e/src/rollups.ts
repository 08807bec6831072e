import type { Pool } from 'pg';
import { communityOnlyReason, readTimescaleEdition } from '@gpumon/runtime/timescale-edition';

/**
 * A test's rows stamped hours or days ago are late data to a rollup whose refresh policy already
 * ran on this database: real-time aggregation only adds the rows past its watermark. The policy's
 * next scheduled refresh takes them in; a test runs that refresh now instead of waiting for it.
 * On the Apache edition the rollups are plain views and need nothing.
 */
export async function refreshRollups(pool: Pool): Promise<void> {
  if (communityOnlyReason(await readTimescaleEdition(pool)) !== undefined) return;
  const { rows } = await pool.query<{ name: string }>(
    `SELECT format('%I.%I', view_schema, view_name) AS name FROM timescaledb_information.continuous_aggregates ORDER BY view_name`);
  // Up to where the policies stop (the newest hour is left to real-time aggregation): a refresh to
  // now would move the watermark past the current bucket and hide rows a later test writes in it.
  for (const { name } of rows) await pool.query(`CALL refresh_continuous_aggregate('${name}', NULL, now() - INTERVAL '1 hour')`);
}

import type { Pool } from 'pg';
import { errorMessage } from '@gpumon/runtime/errors';
import { communityOnlyReason, readTimescaleEdition } from '@gpumon/runtime/timescale-edition';

/**
 * Materializes every continuous aggregate over all its rows, as the refresh policies would by their
 * next run. A test calls it after its rows are written and before it reads a rollup: rows older
 * than an aggregate's watermark (days-old simulated history, or rows of the current hour after
 * another test's refresh) are shown only once a refresh has taken them in; real-time aggregation
 * adds just the rows past it. On the Apache edition the rollups are plain views and need nothing.
 */
export async function refreshRollups(pool: Pool): Promise<void> {
  if (communityOnlyReason(await readTimescaleEdition(pool)) !== undefined) return;
  const { rows } = await pool.query<{ name: string }>(
    `SELECT format('%I.%I', view_schema, view_name) AS name FROM timescaledb_information.continuous_aggregates ORDER BY view_name`);
  for (const { name } of rows) {
    // Tests run at once, and a policy job may be refreshing too: TimescaleDB refuses a concurrent refresh of one aggregate.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await pool.query(`CALL refresh_continuous_aggregate('${name}', NULL, NULL)`);
        break;
      } catch (error) {
        if (!/concurrent/i.test(errorMessage(error)) || attempt === 40) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }
}

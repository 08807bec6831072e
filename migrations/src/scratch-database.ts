import { randomBytes } from 'node:crypto';
import { loadConfig } from '@gpumon/runtime/config';
import { databaseOptions, withClient, type DatabaseSettings } from '@gpumon/runtime/database';

const INSUFFICIENT_PRIVILEGE = '42501';

export interface ScratchDatabase {
  name: string;
  settings: DatabaseSettings;
  /** The settings of another login on the same database. */
  as(user: string, password: string): DatabaseSettings;
  create(): Promise<void>;
  /**
   * Unschedules the compression and retention policy jobs (community edition; none on Apache), for
   * tests whose rows are stamped long ago: the jobs would compress or drop their chunks mid-test.
   * `refresh` holds the continuous aggregates' refresh policies too, for a test that compares a
   * real-time aggregate with the raw rows: a refresh running while its rows are written moves the
   * watermark past rows it did not see, which then show only after the next refresh. Returns once
   * no held job is still running.
   */
  holdPolicyJobs(options?: { refresh?: boolean }): Promise<void>;
  drop(): Promise<void>;
}

/**
 * A database of a test's or benchmark's own, next to the configured one, for migrating from zero.
 * It inherits TimescaleDB from template1, where the stack (like the timescaledb image) installs it.
 */
export function scratchDatabase(kind: 'test' | 'bench' = 'test'): ScratchDatabase {
  const main = loadConfig(databaseOptions);
  const name = `gpu_${kind}_${randomBytes(4).toString('hex')}`;
  const on = (user?: string, password?: string): DatabaseSettings => {
    const url = new URL(main.databaseUrl);
    url.pathname = `/${name}`;
    if (user !== undefined) url.username = user;
    if (password !== undefined) url.password = password;
    return { ...main, databaseUrl: url.toString() };
  };
  return {
    name,
    settings: on(),
    as: on,
    create: () => withClient(main, (c) => c.query(`CREATE DATABASE ${name}`)).then(() => undefined),
    holdPolicyJobs: (options) => withClient(on(), async (c) => {
      const procs = ['policy_compression', 'policy_retention', ...(options?.refresh === true ? ['policy_refresh_continuous_aggregate'] : [])];
      await c.query(`SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs WHERE proc_name = ANY($1)`, [procs]);
      for (let waited = 0; waited < 60_000; waited += 250) {
        const { rows } = await c.query<{ running: number }>(
          `SELECT count(*)::int AS running FROM timescaledb_information.job_stats s JOIN timescaledb_information.jobs j USING (job_id)
            WHERE j.proc_name = ANY($1) AND s.job_status = 'Running'`, [procs]);
        if (rows[0]!.running === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }),
    drop: () => withClient(main, async (c) => {
      // FORCE may end only this login's sessions: those of other roles (gpu_sink, ...) whose process
      // just stopped get the moment their server backends take to exit (seconds on a loaded box).
      for (let waited = 0; ; waited += 250) {
        try {
          await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          return;
        } catch (error) {
          if ((error as { code?: string }).code !== INSUFFICIENT_PRIVILEGE || waited > 30_000) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    }),
  };
}

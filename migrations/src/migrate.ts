import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { clientConfig, databaseAddress, type DatabaseSettings } from '@gpumon/runtime/database';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import type { Logger } from '@gpumon/runtime/log';
import { communityOnlyReason, readTimescaleEdition } from '@gpumon/runtime/timescale-edition';
import { splitStatements } from './sql-statements.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../sql/', import.meta.url));
/** node-pg-migrate's bookkeeping table: prefixed like every object gpumon owns. */
export const MIGRATIONS_TABLE = 'gpu_migrations';

/**
 * Which statement of a failed migration file fails: replays its up section one statement at a
 * time in a transaction that is always rolled back. PostgreSQL reports no position for many
 * errors (a missing column in CREATE INDEX, a failing create_hypertable), so this is the only
 * reliable way to name it.
 */
async function findFailedStatement(client: pg.Client, file: string): Promise<string | undefined> {
  const text = readFileSync(file, 'utf8');
  const up = text.slice(Math.max(0, text.search(/^\s*--[\s-]*up\s+migration/im))).split(/^\s*--[\s-]*down\s+migration/im)[0] ?? '';
  // node-pg-migrate leaves its failed transaction open on the client it was given.
  await client.query('ROLLBACK');
  await client.query('BEGIN');
  try {
    for (const statement of splitStatements(up)) {
      try {
        await client.query(statement);
      } catch {
        return statement;
      }
    }
    return undefined;
  } finally {
    await client.query('ROLLBACK');
  }
}

/** The migrations recorded as applied, in the order they ran; none before the first run. */
async function appliedNames(client: pg.Client): Promise<string[]> {
  const { rows: [table] } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [MIGRATIONS_TABLE]);
  if (table?.exists !== true) return [];
  const { rows } = await client.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`);
  return rows.map((r) => r.name);
}

/** How often materializeHistory tries an aggregate its policy job is refreshing (about 14 s in all). */
const MAX_REFRESH_ATTEMPTS = 10;

/** How often a migration run that met another database's concurrent migration is tried in all. */
const MAX_ATTEMPTS = 5;

/** Runs the pending files of `dir` on `client`; a failure names the file, its statement and its context. */
async function applyPending(client: pg.Client, dir: string, log: Logger): Promise<void> {
  let current: string | undefined;
  try {
    await runner({
      dbClient: client,
      dir,
      direction: 'up',
      migrationsTable: MIGRATIONS_TABLE,
      checkOrder: true,
      advisoryLockMode: 'wait',
      log: () => undefined,
      logger: {
        debug: () => undefined,
        info: (message: string) => {
          const started = /^### MIGRATION (\S+) \(UP\) ###$/.exec(message);
          if (started?.[1] !== undefined) {
            current = started[1];
            log.info('applying migration', { file: `${current}.sql` });
          }
        },
        warn: (message: string) => log.warn(message),
        error: () => undefined,
      },
    });
  } catch (error) {
    if (current === undefined) {
      throw new GpumonError('migration_failed', `migrations in ${dir} could not run: ${errorMessage(error)}`, { cause: error });
    }
    const statement = await findFailedStatement(client, `${dir}${current}.sql`).catch(() => undefined);
    const where = statement === undefined ? '' : `\n  statement: ${statement}`;
    const context = (error as { where?: string }).where;
    throw new GpumonError(
      'migration_failed',
      `migration ${current}.sql failed and was rolled back: ${errorMessage(error)}${where}${context ? `\n  context: ${context}` : ''}`,
      { cause: error },
    );
  }
}

/**
 * Materializes each continuous aggregate up to where its refresh policy stops (end_offset), the
 * whole history included. A migration that creates an aggregate over a table with history cannot
 * do it itself (a refresh runs outside a transaction), and the policy re-reads only its window
 * (start_offset): once it has run, the aggregate shows materialized buckets and the newest ones
 * computed in real time, so the older history would drop out of it. Where nothing is left to
 * materialize this costs a catalog read.
 */
async function materializeHistory(client: pg.Client, log: Logger): Promise<void> {
  const { rows } = await client.query<{ view: string; end_offset: string }>(
    `SELECT format('%I.%I', a.view_schema, a.view_name) AS view, j.config ->> 'end_offset' AS end_offset
       FROM timescaledb_information.continuous_aggregates a
       JOIN timescaledb_information.jobs j
         ON j.hypertable_schema = a.view_schema AND j.hypertable_name = a.view_name AND j.proc_name = 'policy_refresh_continuous_aggregate'
      ORDER BY 1`);
  for (const { view, end_offset } of rows) {
    const started = performance.now();
    const refresh = `CALL refresh_continuous_aggregate('${view}', NULL, now() - INTERVAL '${end_offset}')`;
    // The aggregate's policy job may be refreshing it at this moment (it starts when created): wait for it.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await client.query(`CALL refresh_continuous_aggregate($1::regclass, NULL, now() - $2::interval)`, [view, end_offset]);
        break;
      } catch (error) {
        if (!/concurrent refresh/.test(errorMessage(error))) throw error;
        if (attempt === MAX_REFRESH_ATTEMPTS) {
          log.warn('a continuous aggregate stayed busy with its policy: materialize its history by hand', { view, run: refresh });
          break;
        }
        await sleep(250 * attempt);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    if (seconds > 1) log.info('materialized a continuous aggregate over the history', { view, seconds: Math.round(seconds) });
  }
}

/**
 * Applies the pending migrations in `dir`, each in its own transaction, so a failing file rolls
 * back whole and the error names the file and its statement. Running it again is a no-op.
 */
export async function migrate(settings: DatabaseSettings, log: Logger, dir = MIGRATIONS_DIR): Promise<Array<{ name: string }>> {
  // What an earlier attempt committed before the race rolled a later file back counts as applied too.
  let before: ReadonlySet<string> | undefined;
  for (let attempt = 1; ; attempt += 1) {
    const client = new pg.Client(clientConfig(settings));
    try {
      await client.connect();
    } catch (error) {
      throw new GpumonError('service_unreachable', `cannot reach PostgreSQL at ${databaseAddress(settings)}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    try {
      if (before === undefined) {
        // The edition-dependent DO blocks skip silently: say once, up front, what this server lacks.
        const skipped = communityOnlyReason(await readTimescaleEdition(client));
        if (skipped !== undefined) log.info(`${skipped}: the migrations skip them and create plain views of the same names`);
        before = new Set(await appliedNames(client));
      }
      await applyPending(client, dir, log);
      const applied = (await appliedNames(client)).filter((name) => !before!.has(name)).map((name) => ({ name }));
      if (applied.length > 0 && (await readTimescaleEdition(client)).name === 'community') await materializeHistory(client, log);
      return applied;
    } catch (error) {
      // PostgreSQL's race on its shared catalogs (grants to the same role, a continuous aggregate's
      // job dropped) when two databases of one server migrate at once: the file was rolled back
      // whole, so applying the pending files again, on a new connection, is safe.
      const transient = /tuple concurrently (deleted|updated)/.test(errorMessage(error));
      if (!transient || attempt === MAX_ATTEMPTS) throw error;
      log.warn('a migration met another database migrating on this server; applying the pending files again', { attempt, error: errorMessage(error) });
    } finally {
      await client.end();
    }
    await sleep(100 * attempt + Math.random() * 200);
  }
}

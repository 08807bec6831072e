import pg from 'pg';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';

/**
 * What fixes a failed write. Only the row itself being wrong is final for it: a value the column
 * refuses (class 22) or a constraint it breaks (class 23; a replayed row's 23505 never gets here,
 * copyOnce skips it), or a row past the server's limits (54000). Such a row is found by bisection
 * and dead-lettered. Everything else is fixed by an operator or by time (the server back, the
 * database writable again, a grant, a migration, a lock let go), so the same rows can succeed
 * later: the sink pauses on the reason and retries, and no good row reaches the dead-letter topic.
 *
 * An SQLSTATE not listed waits too: a good row dead-lettered by mistake is lost for good, while
 * a partition held by mistake shows in gpumon_paused, /healthz and one log line with the
 * SQLSTATE, and resumes once the cause is fixed. (Telegraf drops on unknown errors; gpumon would
 * rather stall visibly than lose data silently.)
 */
export type WaitReason =
  | 'database_unreachable' | 'database_read_only' | 'database_auth' | 'database_privilege' | 'database_schema'
  | 'database_timeout' | 'database_conflict' | 'database_resources' | 'database_unknown';
export type DatabaseVerdict = { kind: 'row' } | { kind: 'wait'; reason: WaitReason };

const ROW_CLASSES: ReadonlySet<string> = new Set(['22', '23']);
const ROW_STATES: ReadonlySet<string> = new Set(['54000']);
/** By SQLSTATE first, then by its class (its first two characters). */
const WAIT_REASONS: Readonly<Record<string, WaitReason>> = {
  '25006': 'database_read_only',
  '42501': 'database_privilege',
  // A table, column, type, schema or database the writer expects is missing: the migrations are behind.
  '42P01': 'database_schema', '42703': 'database_schema', '42704': 'database_schema', '3F000': 'database_schema', '3D000': 'database_schema',
  // A binary COPY field of the wrong size: a column's type changed under a running sink; a new session reads the types again.
  '22P03': 'database_schema',
  '55P03': 'database_timeout', '57014': 'database_timeout',
  '08': 'database_unreachable', '57': 'database_unreachable',
  '28': 'database_auth',
  '40': 'database_conflict',
  '53': 'database_resources', '58': 'database_resources',
};
const UNREACHABLE: DatabaseVerdict = { kind: 'wait', reason: 'database_unreachable' };
/** node-postgres's own words for a connection it could not open or lost; these errors carry no code. */
const CONNECTION_LOST = /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|Client was closed and is not queryable|Connection closed/i;

/** The SQLSTATE of an error the server sent: only pg's DatabaseError has one (a Node system error's EPIPE has five letters too). */
export function sqlState(error: unknown): string | undefined {
  return error instanceof pg.DatabaseError && typeof error.code === 'string' ? error.code : undefined;
}

export function classifyDatabaseError(error: unknown): DatabaseVerdict {
  const state = sqlState(error);
  if (state !== undefined) {
    const stateClass = state.slice(0, 2);
    const exact = WAIT_REASONS[state];
    if (exact !== undefined) return { kind: 'wait', reason: exact };
    if (ROW_CLASSES.has(stateClass) || ROW_STATES.has(state)) return { kind: 'row' };
    return { kind: 'wait', reason: WAIT_REASONS[stateClass] ?? 'database_unknown' };
  }
  // A Node system error (ECONNREFUSED, EPIPE, ENETUNREACH, EHOSTDOWN...): the network, not the row.
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code)) return UNREACHABLE;
  if (CONNECTION_LOST.test(errorMessage(error))) return UNREACHABLE;
  // What is left was thrown here, before the server saw the rows (turning a record into COPY text): the row's doing.
  return { kind: 'row' };
}

export function classify(error: unknown, table: string): GpumonError {
  if (error instanceof GpumonError) return error;
  const state = sqlState(error);
  const message = `${table}: ${state !== undefined ? `SQLSTATE ${state}: ` : ''}${errorMessage(error)}`;
  const verdict = classifyDatabaseError(error);
  return verdict.kind === 'row'
    ? new GpumonError('database_rejected', message, { cause: error })
    : new GpumonError('database_unavailable', message, { cause: error, reason: verdict.reason });
}

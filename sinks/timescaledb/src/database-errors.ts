import { GpumonError, errorMessage } from '@gpumon/runtime/errors';

/**
 * SQLSTATE classes worth retrying: the same rows can succeed once the server is back or the
 * conflict is gone. Anything else the database said (a constraint, a value out of range) is
 * permanent, so a bad row goes to the dead-letter topic instead of stalling its partition.
 */
const RETRIABLE_CLASSES = new Set(['08', '40', '53', '57', '58']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function isRetriableDatabaseError(error: unknown): boolean {
  const state = sqlState(error);
  if (state !== undefined) return RETRIABLE_CLASSES.has(state.slice(0, 2));
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  // node-postgres reports a dropped socket without a code.
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(errorMessage(error));
}

export function classify(error: unknown, table: string): GpumonError {
  if (error instanceof GpumonError) return error;
  const state = sqlState(error);
  return new GpumonError(
    isRetriableDatabaseError(error) ? 'database_unavailable' : 'database_rejected',
    `${table}: ${state !== undefined ? `SQLSTATE ${state}: ` : ''}${errorMessage(error)}`,
    { cause: error },
  );
}

/** Closed set of failure classes; `retriable` says whether trying the same thing again can succeed. */
export type ErrorCode =
  | 'config_invalid'
  | 'service_unreachable'
  | 'decode_failed'
  | 'validation_failed'
  | 'encode_failed'
  | 'transform_failed'
  | 'schema_rejected'
  | 'not_provisioned'
  | 'database_rejected'
  | 'database_unavailable'
  | 'record_too_large'
  | 'migration_failed';

const RETRIABLE: ReadonlySet<ErrorCode> = new Set(['service_unreachable', 'database_unavailable']);

export class GpumonError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  /**
   * For a retriable error, what the component waits on while it retries (a `gpumon_paused` label:
   * database_read_only, kafka_authorization...); the code unless the classifier knows better.
   */
  readonly reason: string;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; reason?: string }) {
    super(message, options);
    this.name = 'GpumonError';
    this.code = code;
    this.retriable = RETRIABLE.has(code);
    this.reason = options?.reason ?? code;
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

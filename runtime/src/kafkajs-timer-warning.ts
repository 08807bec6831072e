/**
 * kafkajs 2.2.4's request queue schedules its next check `throttledUntil - Date.now()` ms ahead,
 * a negative delay whenever nothing is throttled (requestQueue/index.js,
 * scheduleCheckPendingRequests). Node has always run such a timer after 1 ms; Node 24 also prints a
 * TimeoutNegativeWarning on stderr (once a process), in every component's first lines. That
 * warning, raised by that kafkajs call, is dropped; every other warning is printed as before.
 */
export function isKafkajsTimerWarning(type: string | undefined, stack: string): boolean {
  return type === 'TimeoutNegativeWarning' && /\bscheduleCheckPendingRequests\b/.test(stack);
}

const emitWarning = process.emitWarning.bind(process) as (warning: string | Error, ...rest: unknown[]) => void;

process.emitWarning = ((warning: string | Error, ...rest: unknown[]): void => {
  const first = rest[0];
  const type = typeof first === 'string' ? first : (first as { type?: string } | undefined)?.type;
  if (isKafkajsTimerWarning(type, new Error().stack ?? '')) return;
  emitWarning(warning, ...rest);
}) as typeof process.emitWarning;

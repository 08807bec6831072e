import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './log.js';
import { waitReason, type Pauses } from './pauses.js';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 15_000 };

/** Full-jitter exponential backoff: attempt n waits uniformly in [0, min(max, initial·2ⁿ)]. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random = Math.random): number {
  return Math.round(random() * Math.min(policy.maxMs, policy.initialMs * 2 ** attempt));
}

/**
 * Runs `work` until it succeeds or throws an error `isRetriable` rejects. Retries forever on
 * retriable errors (a database or broker outage must not lose data), unless `signal` aborts.
 * Given `pauses`, the component shows as paused on the error's reason while this waits, and the
 * log gets the pause and the resume rather than a line per attempt.
 */
export async function retryWhileRetriable<T>(
  what: string,
  work: () => Promise<T>,
  isRetriable: (error: unknown) => boolean,
  log: Logger,
  signal?: AbortSignal,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  pauses?: Pauses,
): Promise<T> {
  const hold = pauses?.hold();
  let resumed = false;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await work();
        resumed = true;
        return result;
      } catch (error) {
        if (!isRetriable(error) || signal?.aborted === true) throw error;
        const delay = backoffDelayMs(attempt, policy);
        if (hold === undefined) {
          log.warn(`${what} failed, retrying in ${delay} ms`, { attempt: attempt + 1, error: (error as Error).message });
        } else {
          hold.waitOn(waitReason(error), what, error);
          log.debug(`${what} failed, retrying in ${delay} ms`, { attempt: attempt + 1, error: (error as Error).message });
        }
        await sleep(delay, undefined, { signal }).catch(() => undefined);
      }
    }
  } finally {
    hold?.release(resumed);
  }
}

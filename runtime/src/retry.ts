import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './log.js';

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
 */
export async function retryWhileRetriable<T>(
  what: string,
  work: () => Promise<T>,
  isRetriable: (error: unknown) => boolean,
  log: Logger,
  signal?: AbortSignal,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isRetriable(error) || signal?.aborted === true) throw error;
      const delay = backoffDelayMs(attempt, policy);
      log.warn(`${what} failed, retrying in ${delay} ms`, { attempt: attempt + 1, error: (error as Error).message });
      await sleep(delay, undefined, { signal }).catch(() => undefined);
    }
  }
}

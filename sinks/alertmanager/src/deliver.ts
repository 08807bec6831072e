import { isRetriable } from '@gpumon/runtime/dead-letter';

export interface Refusal<T> {
  item: T;
  error: unknown;
}

/**
 * Posts `items` with `post`; when the receiver refuses them for good (a non-retriable error), the
 * group is split in halves and each half posted again, down to the items refused alone. So one bad
 * alert among n costs about 2·log2(n) extra posts, the others are delivered, and only it is
 * returned as refused. A retriable error (`post` gave up retrying: the stop) goes to the caller.
 */
export async function deliverIsolating<T>(items: T[], post: (items: T[]) => Promise<void>): Promise<Array<Refusal<T>>> {
  if (items.length === 0) return [];
  try {
    await post(items);
    return [];
  } catch (error) {
    if (isRetriable(error)) throw error;
    if (items.length === 1) return [{ item: items[0] as T, error }];
    const half = Math.ceil(items.length / 2);
    return [...await deliverIsolating(items.slice(0, half), post), ...await deliverIsolating(items.slice(half), post)];
  }
}

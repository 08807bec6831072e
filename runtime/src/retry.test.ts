import { describe, expect, it } from 'vitest';
import { GpumonError } from './errors.js';
import { createLogger } from './log.js';
import { backoffDelayMs, retryWhileRetriable } from './retry.js';

describe('backoff', () => {
  it('doubles from 250 ms up to a 15 s cap, with full jitter', () => {
    expect([0, 1, 2, 3, 10].map((n) => backoffDelayMs(n, undefined, () => 1))).toEqual([250, 500, 1000, 2000, 15_000]);
    expect(backoffDelayMs(5, undefined, () => 0)).toBe(0);
  });

  it('retries retriable errors and gives up at once on others', async () => {
    const log = createLogger('test');
    let calls = 0;
    const result = await retryWhileRetriable('x', async () => {
      calls++;
      if (calls < 3) throw new GpumonError('service_unreachable', 'down');
      return 'ok';
    }, (e) => e instanceof GpumonError && e.retriable, log, undefined, { initialMs: 1, maxMs: 2 });
    expect([result, calls]).toEqual(['ok', 3]);

    calls = 0;
    await expect(retryWhileRetriable('x', async () => {
      calls++;
      throw new GpumonError('decode_failed', 'bad');
    }, (e) => e instanceof GpumonError && e.retriable, log)).rejects.toThrow('bad');
    expect(calls).toBe(1);
  });
});

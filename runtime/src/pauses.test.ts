import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { GpumonError } from './errors.js';
import type { Logger } from './log.js';
import { Pauses } from './pauses.js';
import { retryWhileRetriable } from './retry.js';

function recording(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

const gauge = async (registry: Registry, reason: string): Promise<number | undefined> =>
  (await registry.getSingleMetric('gpumon_paused')!.get()).values.find((v) => v.labels.reason === reason)?.value;

describe('Pauses', () => {
  it('logs a pause once however many attempts fail, shows it in the gauge and the health check, and logs the resume', async () => {
    const registry = new Registry();
    const { log, lines } = recording();
    const pauses = new Pauses(registry, 'sink-timescaledb', log);
    let calls = 0;
    let seenWhilePaused: [number | undefined, string] = [undefined, ''];
    const written = retryWhileRetriable('writing 5 rows to gpu_samples', async () => {
      calls++;
      if (calls === 5) seenWhilePaused = [await gauge(registry, 'database_read_only'), (() => { try { pauses.check(); return ''; } catch (e) { return (e as Error).message; } })()];
      if (calls < 10) throw new GpumonError('database_unavailable', 'gpu_samples: SQLSTATE 25006: cannot execute COPY FROM in a read-only transaction', { reason: 'database_read_only' });
      return 'ok';
    }, (e) => e instanceof GpumonError && e.retriable, log, undefined, { initialMs: 1, maxMs: 2 }, pauses);
    expect(await written).toBe('ok');
    expect(calls).toBe(10);
    expect(seenWhilePaused[0]).toBe(1);
    expect(seenWhilePaused[1]).toMatch(/^paused for \d+ s: database_read_only \(gpu_samples: SQLSTATE 25006/);
    const logged = lines.filter((l) => !l.startsWith('debug'));
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatch(/^warn writing 5 rows to gpu_samples failed, retrying until it succeeds \(paused\) .*"reason":"database_read_only"/);
    expect(logged[1]).toMatch(/^info resumed after \d+\.\d s/);
    expect(await gauge(registry, 'database_read_only')).toBe(0);
    expect(() => pauses.check()).not.toThrow();
  });

  it('logs each new reason once while several operations wait, and resumes when the last one succeeds', () => {
    const { log, lines } = recording();
    const pauses = new Pauses(new Registry(), 'p', log);
    const [a, b] = [pauses.hold(), pauses.hold()];
    a.waitOn('database_unreachable', 'a', new Error('ECONNRESET'));
    b.waitOn('database_unreachable', 'b', new Error('ECONNRESET'));
    a.waitOn('database_read_only', 'a', new Error('25006'));
    a.waitOn('database_read_only', 'a', new Error('25006'));
    a.release(true);
    expect(() => pauses.check()).toThrow(/database_unreachable/);
    b.release(true);
    expect(lines.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['warn a', 'warn a', 'info resumed']);
    expect(lines[1]).toContain('database_read_only');
  });
});

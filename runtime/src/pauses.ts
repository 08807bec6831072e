import { Gauge, type Registry } from 'prom-client';
import { GpumonError, errorMessage } from './errors.js';
import { classifySendError } from './kafka-errors.js';
import type { Logger } from './log.js';

/** The `gpumon_paused` reason of an error a component retries: the classifier's for its own errors, the broker's for a send. */
export function waitReason(error: unknown): string {
  if (error instanceof GpumonError) return error.reason;
  const verdict = classifySendError(error);
  return verdict.kind === 'wait' ? verdict.reason : 'unavailable';
}

/** One operation retrying under a Pauses: what it waits on now, until it lets go. */
export interface PauseHold {
  /** Waits on `reason` now (after `error` of `what`); logs only when that changes the component's state. */
  waitOn(reason: string, what: string, error: unknown): void;
  /** Stops waiting: `resumed` when the operation succeeded (so the component may have resumed), not when it gave up or stopped. */
  release(resumed: boolean): void;
}

/**
 * Whether a component is paused, and on what: while any of its operations waits out something an
 * operator or time fixes (a read-only database, a missing ACL, a broker away, a deleted topic), it is. The state is
 * the gauge `gpumon_paused{component,reason}` (1 while some operation waits on that reason) and
 * what /healthz answers; the log gets a line when a reason starts and when the component resumes,
 * never one per attempt, however long the outage.
 */
export class Pauses {
  private readonly gauge: Gauge;
  private readonly waiting = new Map<PauseHold, { reason: string; error: string }>();
  private since: number | undefined;

  constructor(registry: Registry, private readonly component: string, private readonly log: Logger) {
    this.gauge = new Gauge({
      name: 'gpumon_paused', help: 'Whether the component is paused (1) waiting on this reason: its writes, sends or consumption are being retried until fixed.',
      labelNames: ['component', 'reason'], registers: [registry],
    });
  }

  hold(): PauseHold {
    const hold: PauseHold = {
      waitOn: (reason, what, error) => {
        const before = this.waiting.get(hold)?.reason;
        this.waiting.set(hold, { reason, error: errorMessage(error) });
        if (before === reason) return;
        if (before !== undefined) this.update(before);
        const known = this.reasons().filter((r) => r === reason).length > 1;
        this.since ??= Date.now();
        this.gauge.set({ component: this.component, reason }, 1);
        if (!known) this.log.warn(`${what} failed, retrying until it succeeds (paused)`, { reason, error: errorMessage(error) });
      },
      release: (resumed) => {
        const was = this.waiting.get(hold);
        if (was === undefined) return;
        this.waiting.delete(hold);
        this.update(was.reason);
        if (this.waiting.size > 0 || this.since === undefined) return;
        if (resumed) this.log.info(`resumed after ${((Date.now() - this.since) / 1000).toFixed(1)} s`);
        this.since = undefined;
      },
    };
    return hold;
  }

  /** Throws while paused, naming the reasons and the last error of each: for /healthz. */
  check(): void {
    if (this.since === undefined) return;
    const reasons = new Map([...this.waiting.values()].map((w) => [w.reason, w.error]));
    const what = [...reasons].map(([reason, error]) => `${reason} (${error})`).join('; ');
    throw new Error(`paused for ${Math.round((Date.now() - this.since) / 1000)} s: ${what}`);
  }

  private reasons(): string[] {
    return [...this.waiting.values()].map((w) => w.reason);
  }

  /** The gauge of `reason` once an operation stopped waiting on it. */
  private update(reason: string): void {
    if (!this.reasons().includes(reason)) this.gauge.set({ component: this.component, reason }, 0);
  }
}

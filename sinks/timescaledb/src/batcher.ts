export interface BatcherOptions<T> {
  /** Most items per write. */
  maxRows: number;
  /** Longest a handed-in item waits for company while another handler is still preparing its own. */
  maxWaitMs: number;
  /** Writes one group of one key for good (retrying inside as it sees fit); a rejection fails every handler in it. */
  write(key: string, items: T[]): Promise<void>;
}

interface Waiter<T> {
  items: T[];
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Groups what concurrent handlers (kafkajs partition batches) hand in, per key (table), into
 * writes of at most `maxRows`. A handler gets back a `written` promise that settles when every one
 * of its items has been written, so the caller commits its offsets only after the database has the
 * rows, and may fetch and prepare more meanwhile. A group goes out as soon as it is full, when no
 * handler is still preparing (nothing more can join), or after `maxWaitMs`.
 */
export class Batcher<T> {
  private readonly pending = new Map<string, Array<Waiter<T>>>();
  private preparing = 0;
  private timer: NodeJS.Timeout | undefined;
  private idleCheck: NodeJS.Immediate | undefined;

  constructor(private readonly options: BatcherOptions<T>) {}

  /**
   * Says a handler is preparing items (decoding a batch): no group goes out for want of company
   * until the returned call says it is done, having handed its items in or given up.
   */
  arriving(): () => void {
    this.preparing++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.preparing--;
      if (this.pending.size > 0) this.scheduleIdleCheck();
    };
  }

  /** Runs `prepare` (filtering) and queues the items it returns; `written` settles once they are in. */
  async add(key: string, prepare: () => Promise<T[]>): Promise<{ written: Promise<void> }> {
    const done = this.arriving();
    let items: T[];
    try {
      items = await prepare();
    } finally {
      done();
    }
    const written = items.length === 0 ? Promise.resolve() : new Promise<void>((resolve, reject) => {
      const waiters = this.pending.get(key) ?? [];
      waiters.push({ items, resolve, reject });
      this.pending.set(key, waiters);
    });
    // Whoever takes `written` sees a failure; until then it must not count as unhandled.
    written.catch(() => undefined);
    this.schedule(key);
    return { written };
  }

  private schedule(key: string): void {
    const rows = (this.pending.get(key) ?? []).reduce((n, w) => n + w.items.length, 0);
    if (rows >= this.options.maxRows) this.flush(key);
    if (this.pending.size === 0) return;
    this.timer ??= setTimeout(() => this.flushAll(), this.options.maxWaitMs);
    this.scheduleIdleCheck();
  }

  /** After the microtasks already queued have run, so handlers started together have all checked in. */
  private scheduleIdleCheck(): void {
    this.idleCheck ??= setImmediate(() => {
      this.idleCheck = undefined;
      if (this.preparing === 0) this.flushAll();
    });
  }

  private flushAll(): void {
    for (const key of [...this.pending.keys()]) this.flush(key);
  }

  private flush(key: string): void {
    const waiters = this.pending.get(key) ?? [];
    this.pending.delete(key);
    if (this.pending.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (waiters.length === 0) return;
    void this.writeAll(key, waiters.flatMap((w) => w.items)).then(
      () => waiters.forEach((w) => w.resolve()),
      (error: unknown) => waiters.forEach((w) => w.reject(error)),
    );
  }

  private async writeAll(key: string, items: T[]): Promise<void> {
    for (let i = 0; i < items.length; i += this.options.maxRows) await this.options.write(key, items.slice(i, i + this.options.maxRows));
  }
}

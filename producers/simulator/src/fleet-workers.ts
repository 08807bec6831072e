import { Worker } from 'node:worker_threads';
import type { EncodedTick } from './encoded-tick.js';
import type { FleetOptions } from './fleet.js';

/** What a worker thread is given: the whole fleet's options with its slice, the topic and schema id to encode for, and how many GPUs a message holds. */
export interface FleetSlice {
  fleet: FleetOptions & { slice: { from: number; to: number } };
  topic: string;
  schemaId: number;
  part: number;
}

/** A worker's first message: its slice of the fleet is built and its codec loaded. */
export const READY = 'ready';

interface Waiter {
  resolve: (part: EncodedTick) => void;
  reject: (error: Error) => void;
}

/**
 * The fleet split by GPU over worker threads, so that modelling, features and Avro encoding run
 * beside the thread that sends. A GPU lives in one thread for the whole run, so its readings and
 * their order are those of the fleet simulated in one thread.
 */
export class FleetWorkers {
  private readonly workers: Array<{ worker: Worker; parts: number; waiting: Waiter[] }>;
  private failure: Error | undefined;
  /**
   * Settles when every worker has built its slice: a wall-clock run stamps its first tick after
   * this, so that starting the threads (hundreds of ms) does not count as its readings' age.
   */
  readonly ready: Promise<void>;

  constructor(fleet: FleetOptions, count: number, encoding: Omit<FleetSlice, 'fleet'>) {
    const gpus = fleet.hosts * fleet.gpusPerHost;
    const threads = Math.max(1, Math.min(count, gpus));
    const started: Array<Promise<void>> = [];
    this.workers = Array.from({ length: threads }, (_, k) => {
      const slice = { from: Math.floor((k * gpus) / threads), to: Math.floor(((k + 1) * gpus) / threads) };
      const worker = new Worker(new URL('./fleet-worker.js', import.meta.url), { workerData: { ...encoding, fleet: { ...fleet, slice } } satisfies FleetSlice });
      const entry = { worker, parts: Math.ceil((slice.to - slice.from) / encoding.part), waiting: [] as Waiter[] };
      let readiness!: Waiter;
      started.push(new Promise<void>((resolve, reject) => {
        readiness = { resolve: () => resolve(), reject };
      }));
      const fail = (error: Error) => {
        this.failure ??= error;
        readiness.reject(error);
        for (const waiter of entry.waiting.splice(0)) waiter.reject(error);
      };
      worker.on('message', (part: EncodedTick | typeof READY) => (part === READY ? readiness.resolve : entry.waiting.shift()?.resolve)?.(part as EncodedTick));
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`simulator worker for GPUs ${slice.from}–${slice.to - 1} exited with code ${code}`)));
      return entry;
    });
    this.ready = Promise.all(started).then(() => undefined);
    // A run that fails before awaiting it reports the worker's error through sample() instead.
    this.ready.catch(() => undefined);
  }

  get threads(): number {
    return this.workers.length;
  }

  /**
   * The encoded records at `timeMs`, in fleet order, one promise per part of a slice: each
   * resolves when its worker has encoded it. Every tick is cut into the same parts, so a part
   * holds the same GPUs at every tick.
   */
  sample(timeMs: number): Array<Promise<EncodedTick>> {
    const parts = this.workers.flatMap((entry) => {
      const waiters: Waiter[] = [];
      const promises = Array.from({ length: entry.parts }, () => new Promise<EncodedTick>((resolve, reject) => {
        waiters.push({ resolve, reject });
      }));
      if (this.failure !== undefined) {
        for (const waiter of waiters) waiter.reject(this.failure);
      } else {
        entry.waiting.push(...waiters);
        entry.worker.postMessage(timeMs);
      }
      return promises;
    });
    // A part asked for ahead and never awaited (the run stopped) must not be an unhandled rejection.
    for (const part of parts) part.catch(() => undefined);
    return parts;
  }

  async close(): Promise<void> {
    this.failure ??= new Error('simulator workers closed');
    await Promise.all(this.workers.map((entry) => entry.worker.terminate()));
  }
}

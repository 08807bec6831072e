import { Worker } from 'node:worker_threads';
import type { RegistrySettings } from '@gpumon/runtime/registry';
import type { EncodedTick } from './encoded-tick.js';
import type { FleetOptions } from './fleet.js';

/** What a worker thread is given: the whole fleet's options with its slice, and how to encode. */
export interface FleetSlice {
  fleet: FleetOptions & { slice: { from: number; to: number } };
  registry: RegistrySettings;
  topicPrefix: string | undefined;
  schemaId: number;
}

/**
 * The fleet split by GPU over worker threads, so that modelling, features and Avro encoding run
 * beside the thread that sends. A GPU lives in one thread for the whole run, so its readings and
 * their order are those of the fleet simulated in one thread.
 */
export class FleetWorkers {
  private readonly workers: Array<{ worker: Worker; waiting: Array<{ resolve: (tick: EncodedTick) => void; reject: (error: Error) => void }> }>;
  private failure: Error | undefined;

  constructor(fleet: FleetOptions, count: number, encoding: Omit<FleetSlice, 'fleet'>) {
    const gpus = fleet.hosts * fleet.gpusPerHost;
    const threads = Math.max(1, Math.min(count, gpus));
    this.workers = Array.from({ length: threads }, (_, k) => {
      const slice = { from: Math.floor((k * gpus) / threads), to: Math.floor(((k + 1) * gpus) / threads) };
      const worker = new Worker(new URL('./fleet-worker.js', import.meta.url), { workerData: { ...encoding, fleet: { ...fleet, slice } } satisfies FleetSlice });
      const entry = { worker, waiting: [] as Array<{ resolve: (tick: EncodedTick) => void; reject: (error: Error) => void }> };
      const fail = (error: Error) => {
        this.failure ??= error;
        for (const waiter of entry.waiting.splice(0)) waiter.reject(error);
      };
      worker.on('message', (tick: EncodedTick) => entry.waiting.shift()?.resolve(tick));
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`simulator worker for GPUs ${slice.from}–${slice.to - 1} exited with code ${code}`)));
      return entry;
    });
  }

  get threads(): number {
    return this.workers.length;
  }

  /** Every slice's encoded records at `timeMs`, in fleet order. */
  sample(timeMs: number): Promise<EncodedTick[]> {
    const tick = Promise.all(this.workers.map((entry) => new Promise<EncodedTick>((resolve, reject) => {
      if (this.failure !== undefined) return reject(this.failure);
      entry.waiting.push({ resolve, reject });
      entry.worker.postMessage(timeMs);
    })));
    // A tick asked for ahead and never awaited (the run stopped) must not be an unhandled rejection.
    tick.catch(() => undefined);
    return tick;
  }

  async close(): Promise<void> {
    this.failure ??= new Error('simulator workers closed');
    await Promise.all(this.workers.map((entry) => entry.worker.terminate()));
  }
}

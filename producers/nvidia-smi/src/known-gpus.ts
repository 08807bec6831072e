import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { lostSample } from '@gpumon/schemas/lost-sample';
import type { GpuSample } from '@gpumon/schemas/types.generated';

/**
 * The GPUs this host has reported, with their last reading, kept on disk so that a GPU that falls
 * off the bus while the agent restarts is still reported lost rather than silently forgotten.
 */
export class KnownGpus {
  private readonly last = new Map<string, GpuSample>();

  constructor(private readonly path: string | undefined) {
    if (path === undefined) return;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return;
    }
    for (const sample of JSON.parse(text) as GpuSample[]) this.last.set(sample.gpu_uuid, sample);
  }

  /**
   * This round's samples plus a lost record for every known GPU that did not answer, each with
   * the time since the GPU's previous record.
   */
  reconcile(samples: readonly GpuSample[], time: number): GpuSample[] {
    const seen = new Set(samples.map((s) => s.gpu_uuid));
    const lost = [...this.last.values()].filter((s) => !seen.has(s.gpu_uuid)).map((s) => lostSample(s, time));
    const all = [...samples, ...lost].map((sample) => {
      const previous = this.last.get(sample.gpu_uuid);
      return { ...sample, interval_s: previous === undefined ? null : (time - previous.time) / 1000 };
    });
    for (const sample of all) {
      // A lost record keeps the identity of the last real reading, for the next lost record.
      if (!sample.gpu_lost) this.last.set(sample.gpu_uuid, { ...sample, features: null, xid_events: [] });
      else this.last.set(sample.gpu_uuid, { ...this.last.get(sample.gpu_uuid)!, time });
    }
    return all;
  }

  save(): void {
    if (this.path === undefined) return;
    writeFileSync(`${this.path}.tmp`, JSON.stringify([...this.last.values()]));
    renameSync(`${this.path}.tmp`, this.path);
  }
}

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

  /** This round's samples plus a lost record for every known GPU that did not answer. */
  reconcile(samples: readonly GpuSample[], time: number): GpuSample[] {
    const seen = new Set(samples.map((s) => s.gpu_uuid));
    const lost = [...this.last.values()].filter((s) => !seen.has(s.gpu_uuid)).map((s) => lostSample(s, time));
    for (const sample of samples) this.last.set(sample.gpu_uuid, { ...sample, features: null, xid_events: [] });
    return [...samples, ...lost];
  }

  save(): void {
    if (this.path === undefined) return;
    writeFileSync(`${this.path}.tmp`, JSON.stringify([...this.last.values()]));
    renameSync(`${this.path}.tmp`, this.path);
  }
}

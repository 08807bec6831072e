import { readStateFile, writeStateFile, type SetAsideHandler } from '@gpumon/runtime/state-file';
import { lostSample } from '@gpumon/schemas/lost-sample';
import type { GpuSample } from '@gpumon/schemas/types.generated';

interface KnownGpu {
  /** The last real reading, its `time` that of the GPU's last record (real or lost). */
  last: GpuSample;
  /** When the GPU last answered. */
  seenAt: number;
}

interface KnownGpusFile {
  version: 1;
  gpus: { seen_at: number; last: GpuSample }[];
}

export interface KnownGpusOptions {
  /** Where they are kept across restarts; undefined keeps them in memory only. */
  path: string | undefined;
  /** A GPU lost for longer than this is forgotten: no longer reported (nor billed, nor alerted). */
  forgetLostAfterMs: number;
  onSetAside: SetAsideHandler;
}

export interface Reconciled {
  /** This round's samples plus a lost record per known GPU that did not answer. */
  samples: GpuSample[];
  /** GPUs lost for longer than `forgetLostAfterMs`, forgotten this round. */
  forgotten: GpuSample[];
}

/**
 * The GPUs this host has reported, with their last reading, kept on disk so that a GPU that falls
 * off the bus while the agent restarts is still reported lost rather than silently forgotten, until
 * it has been lost for `forgetLostAfterMs` (a board taken out of the host is not a failure for ever).
 */
export class KnownGpus {
  private readonly known = new Map<string, KnownGpu>();

  constructor(private readonly options: KnownGpusOptions) {
    if (options.path === undefined) return;
    const file = readStateFile(options.path, decodeKnownGpus, options.onSetAside);
    for (const gpu of file?.gpus ?? []) this.known.set(gpu.last.gpu_uuid, { last: gpu.last, seenAt: gpu.seen_at });
  }

  /** Each sample carries the time since the GPU's previous record. */
  reconcile(samples: readonly GpuSample[], time: number): Reconciled {
    const seen = new Set(samples.map((s) => s.gpu_uuid));
    const forgotten: GpuSample[] = [];
    for (const [uuid, gpu] of this.known) {
      if (seen.has(uuid) || time - gpu.seenAt <= this.options.forgetLostAfterMs) continue;
      forgotten.push(gpu.last);
      this.known.delete(uuid);
    }
    const lost = [...this.known.values()].filter((gpu) => !seen.has(gpu.last.gpu_uuid)).map((gpu) => lostSample(gpu.last, time));
    const all = [...samples, ...lost].map((sample) => {
      const previous = this.known.get(sample.gpu_uuid);
      return { ...sample, interval_s: previous === undefined ? null : (time - previous.last.time) / 1000 };
    });
    for (const sample of all) {
      // A lost record keeps the identity of the last real reading, for the next lost record.
      if (!sample.gpu_lost) this.known.set(sample.gpu_uuid, { last: { ...sample, features: null, xid_events: [] }, seenAt: time });
      else {
        const gpu = this.known.get(sample.gpu_uuid)!;
        gpu.last = { ...gpu.last, time };
      }
    }
    return { samples: all, forgotten };
  }

  save(): void {
    if (this.options.path === undefined) return;
    const file: KnownGpusFile = { version: 1, gpus: [...this.known.values()].map((gpu) => ({ seen_at: gpu.seenAt, last: gpu.last })) };
    writeStateFile(this.options.path, JSON.stringify(file));
  }
}

function decodeKnownGpus(content: Buffer): KnownGpusFile {
  const file = JSON.parse(content.toString('utf8')) as Partial<KnownGpusFile> | null;
  const valid = file?.version === 1 && Array.isArray(file.gpus) &&
    file.gpus.every((gpu) => typeof gpu?.seen_at === 'number' && typeof gpu.last?.gpu_uuid === 'string' && typeof gpu.last.time === 'number');
  if (!valid) throw new Error('not a version 1 list of known GPUs');
  return file as KnownGpusFile;
}

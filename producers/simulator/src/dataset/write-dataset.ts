import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createGunzip, gzipSync } from 'node:zlib';
import { FEATURE_DEFINITIONS } from '@gpumon/features/definitions';
import type { ConfigOf } from '@gpumon/runtime/config';
import { GpumonError } from '@gpumon/runtime/errors';
import type { Logger } from '@gpumon/runtime/log';
import { CSV_HEADER, META_COLUMNS, type DatasetSpec } from './labelled-rows.js';
import type { datasetOptions } from './options.js';
import { writePart, type PartSummary } from './part.js';

export type DatasetSettings = ConfigOf<typeof datasetOptions>;

/** The JSON written beside the CSV: how it was made and what it holds. */
export interface DatasetDescription {
  spec: DatasetSpec;
  file: string;
  /** Of the CSV text, not of its gzip: the compressed bytes depend on how the work was split. */
  sha256: string;
  sha256_of: typeof SHA256_OF;
  /** Size of the CSV text. */
  bytes: number;
  rows: number;
  positives: number;
  failures: Record<string, number>;
  meta_columns: readonly string[];
  features: typeof FEATURE_DEFINITIONS;
}

const SHA256_OF = 'the uncompressed CSV text (gunzip the file, then sha256): the gzip bytes depend on how many workers wrote it';

export function specOf(settings: DatasetSettings): DatasetSpec {
  if (settings.rowEvery % settings.interval !== 0) {
    throw new GpumonError('config_invalid', `--row-every (${settings.rowEvery} ms) must be a whole multiple of --interval (${settings.interval} ms)`);
  }
  return {
    seed: settings.seed, gpus: settings.gpus, gpusPerHost: settings.gpusPerHost, days: settings.days,
    startMs: Date.parse(settings.start), intervalMs: settings.interval, rowEveryMs: settings.rowEvery,
    horizonMs: settings.horizon, faultRateScale: settings.faultRateScale,
  };
}

export function descriptionPath(out: string): string {
  return `${out.replace(/\.csv\.gz$/, '').replace(/\.gz$/, '')}.json`;
}

/**
 * Simulates the fleet on a simulated clock, split into contiguous GPU ranges over worker threads,
 * and writes one gzipped CSV (a header member, then each range's member in order) and its
 * description. The CSV text is the same for the same settings whatever the number of workers.
 */
export async function writeDataset(settings: DatasetSettings, log: Logger): Promise<DatasetDescription> {
  const spec = specOf(settings);
  const workers = Math.min(settings.workers ?? availableParallelism(), spec.gpus);
  await mkdir(dirname(settings.out), { recursive: true });
  const ranges = Array.from({ length: workers }, (_, k) => ({
    from: Math.floor((k * spec.gpus) / workers),
    to: Math.floor(((k + 1) * spec.gpus) / workers),
    path: `${settings.out}.part-${k}`,
  }));
  log.info('simulating', { gpus: spec.gpus, days: spec.days, interval_ms: spec.intervalMs, workers, readings: spec.gpus * spec.days * 86_400_000 / spec.intervalMs });
  const started = performance.now();
  try {
    const parts = await Promise.all(ranges.map((r) => (workers === 1 ? writePart(spec, r.from, r.to, r.path) : inWorker(spec, r.from, r.to, r.path))));
    await writeFile(settings.out, gzipSync(CSV_HEADER));
    for (const r of ranges) await writeFile(settings.out, createReadStream(r.path), { flag: 'a' });
    const total = sum(parts);
    const { sha256, bytes } = await digest(settings.out);
    const description: DatasetDescription = {
      spec, file: settings.out, sha256, sha256_of: SHA256_OF, bytes, ...total, meta_columns: META_COLUMNS, features: FEATURE_DEFINITIONS,
    };
    await writeFile(descriptionPath(settings.out), `${JSON.stringify(description, null, 2)}\n`);
    log.info('written', { file: settings.out, rows: total.rows, positives: total.positives, failures: total.failures, bytes, seconds: Math.round((performance.now() - started) / 100) / 10 });
    return description;
  } finally {
    await Promise.all(ranges.map((r) => rm(r.path, { force: true })));
  }
}

function inWorker(spec: DatasetSpec, from: number, to: number, path: string): Promise<PartSummary> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { spec, from, to, path } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => { if (code !== 0) reject(new Error(`dataset worker for GPUs ${from}–${to - 1} exited with code ${code}`)); });
  });
}

function sum(parts: PartSummary[]): PartSummary {
  const total: PartSummary = { rows: 0, positives: 0, failures: {} };
  for (const part of parts) {
    total.rows += part.rows;
    total.positives += part.positives;
    for (const [kind, n] of Object.entries(part.failures)) total.failures[kind] = (total.failures[kind] ?? 0) + n;
  }
  return total;
}

async function digest(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path).pipe(createGunzip())) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

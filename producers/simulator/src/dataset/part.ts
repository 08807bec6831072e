import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { FeatureEngine } from '@gpumon/features/engine';
import { SimulatedFleet } from '../fleet.js';
import { appendGpuRows, type DatasetSpec } from './labelled-rows.js';

/** What one part of the dataset holds. */
export interface PartSummary {
  rows: number;
  positives: number;
  /** GPUs that failed within the simulated period, by fault kind. */
  failures: Record<string, number>;
}

/** The dataset's GPUs, in fleet order: the first `gpus` boards of a fleet of whole hosts. */
export function datasetGpus(spec: DatasetSpec): SimulatedFleet['gpus'] {
  const hosts = Math.ceil(spec.gpus / spec.gpusPerHost);
  const fleet = new SimulatedFleet({
    seed: spec.seed, hosts, gpusPerHost: spec.gpusPerHost, hostPrefix: 'sim', faultRateScale: spec.faultRateScale, attribution: false,
  });
  return fleet.gpus.slice(0, spec.gpus);
}

/** Writes the rows of GPUs [from, to) as one gzip member (no header), so parts concatenate into one file. */
export async function writePart(spec: DatasetSpec, from: number, to: number, path: string): Promise<PartSummary> {
  const gpus = datasetGpus(spec).slice(from, to);
  const engine = new FeatureEngine();
  const summary: PartSummary = { rows: 0, positives: 0, failures: {} };
  const endMs = spec.startMs + spec.days * 86_400_000;
  const gzip = createGzip({ level: 6 });
  const written = pipeline(gzip, createWriteStream(path));
  for (const gpu of gpus) {
    const lines: string[] = [];
    const counts = appendGpuRows(gpu, engine, spec, lines);
    summary.rows += counts.rows;
    summary.positives += counts.positives;
    const timeline = gpu.faultTimeline;
    if (timeline !== null && timeline.failureMs < endMs) summary.failures[timeline.kind] = (summary.failures[timeline.kind] ?? 0) + 1;
    if (!gzip.write(lines.join(''))) await once(gzip, 'drain');
  }
  gzip.end();
  await written;
  return summary;
}

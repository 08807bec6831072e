import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FEATURE_DEFINITIONS, FEATURE_NAMES } from '@gpumon/features/definitions';
import { loadConfig } from '@gpumon/runtime/config';
import { createLogger } from '@gpumon/runtime/log';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '../fleet.js';
import { META_COLUMNS } from './labelled-rows.js';
import { datasetOptions } from './options.js';
import { descriptionPath, writeDataset } from './write-dataset.js';

const dir = mkdtempSync(join(tmpdir(), 'gpumon-dataset-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger('dataset-test');

/** A small fleet with many faults: 24 GPUs for 3 days at 100 times the published rates. */
function settings(out: string, overrides: Record<string, string> = {}) {
  return loadConfig(datasetOptions, { gpus: '24', days: '3', faultRateScale: '300', workers: '1', out, ...overrides }, {});
}

function rowsOf(file: string): Array<Record<string, string>> {
  const [header, ...lines] = gunzipSync(readFileSync(file)).toString('utf8').trimEnd().split('\n');
  const columns = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((cell, i) => [columns[i]!, cell])));
}

describe('gpumon dataset', async () => {
  const out = join(dir, 'a.csv.gz');
  const description = await writeDataset(settings(out), log);
  const rows = rowsOf(out);

  it('describes what it wrote: counts, hash, columns and features', () => {
    expect(JSON.parse(readFileSync(descriptionPath(out), 'utf8'))).toEqual(description);
    expect(description.rows).toBe(rows.length);
    expect(description.positives).toBe(rows.filter((r) => r.label === '1').length);
    expect(description.positives).toBeGreaterThan(0);
    expect(description.features).toEqual(FEATURE_DEFINITIONS);
    expect(Object.keys(rows[0]!)).toEqual([...META_COLUMNS, ...FEATURE_NAMES]);
  });

  it('labels a row 1 exactly when its GPU fails within the horizon after it, from the ground truth, and stops at the failure', () => {
    const day = 86_400_000;
    for (const row of rows) {
      const time = Number(row.time);
      const failure = row.failure_time === '' ? Infinity : Number(row.failure_time);
      expect(time).toBeLessThan(failure);
      expect(row.label).toBe(failure - time <= day ? '1' : '0');
    }
    const failed = new Set(rows.filter((r) => r.failure_time !== '' && Number(r.failure_time) < Number(r.time) + day).map((r) => r.gpu_uuid));
    expect(failed.size).toBeGreaterThan(2);
  });

  it('carries the features the edge sends: the simulator fleet through the shared engine, at the row times', () => {
    const spec = description.spec;
    const fleet = new SimulatedFleet({ seed: spec.seed, hosts: 3, gpusPerHost: 8, hostPrefix: 'sim', faultRateScale: spec.faultRateScale });
    const byKey = new Map<string, GpuSample>();
    for (let t = spec.startMs; t < spec.startMs + spec.days * 86_400_000; t += spec.intervalMs) {
      for (const sample of fleet.sample(t)) if ((t - spec.startMs) % spec.rowEveryMs === 0) byKey.set(`${sample.gpu_uuid}@${t}`, sample);
    }
    for (const row of rows) {
      const features = byKey.get(`${row.gpu_uuid}@${row.time}`)!.features as unknown as Record<string, number | null>;
      for (const name of FEATURE_NAMES) {
        const value = features[name];
        // The file keeps what the model sees: the float32 of each feature.
        expect(row[name] === '' ? null : Math.fround(Number(row[name])), `${row.gpu_uuid} ${row.time} ${name}`).toBe(value === null || value === undefined ? null : Math.fround(value));
      }
    }
  });

  it('is the same file, byte for byte, for the same settings', async () => {
    const again = await writeDataset(settings(join(dir, 'b.csv.gz')), log);
    expect(again.sha256).toBe(description.sha256);
  });

  it('refuses rows that do not fall on readings', async () => {
    await expect(writeDataset(settings(join(dir, 'c.csv.gz'), { rowEvery: '90s' }), log)).rejects.toThrow(/--row-every \(90000 ms\) must be a whole multiple of --interval \(60000 ms\)/);
  });
});

describe('feature definitions', () => {
  it('list the engine\'s features in order with a unit parsed from each doc', () => {
    expect(FEATURE_NAMES).toContain('temperature_mean_5m');
    expect(FEATURE_DEFINITIONS.find((d) => d.name === 'temperature_mean_5m')?.unit).toBe('°C');
    expect(FEATURE_DEFINITIONS.find((d) => d.name === 'throttle_thermal_duty_1h')?.unit).toBe('fraction');
    expect(FEATURE_DEFINITIONS.find((d) => d.name === 'ecc_sbe_increase_1h')?.unit).toBe('count');
    expect(FEATURE_DEFINITIONS.find((d) => d.name === 'xid_critical_count_24h')?.unit).toBe('count');
    for (const d of FEATURE_DEFINITIONS) expect(d.unit, d.name).not.toBe('');
  });
});

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FeatureEngine } from './engine.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint-file.js';
import { GPU, randomSamples, sample, T0 } from './samples.fixture.js';

function engineWith(seed: number, gpus: number, samples: number): FeatureEngine {
  const engine = new FeatureEngine();
  for (let g = 0; g < gpus; g++) for (const s of randomSamples(seed + g, samples, `GPU-${g}`)) engine.update(s);
  return engine;
}

describe('checkpoint file', () => {
  let directory: string;
  let path: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'gpumon-features-'));
    path = join(directory, 'features.json');
  });

  afterEach(() => {
    expect(readdirSync(directory)).not.toContain('.features.json.tmp');
  });

  it('gives an empty engine when there is no file yet', () => {
    expect(loadCheckpoint(path).size).toBe(0);
  });

  it('saves and loads an engine that continues exactly where it was', () => {
    const engine = engineWith(3, 4, 100);
    saveCheckpoint(path, engine);
    const loaded = loadCheckpoint(path);
    expect(loaded.size).toBe(4);
    const next = sample(T0 + 1000 * 3600_000, { gpu_uuid: 'GPU-2', temperature_gpu_c: 55 });
    expect(loaded.update(next)).toEqual(engine.update(next));
    expect(readdirSync(directory)).toEqual(['features.json']);
  });

  it('replaces the previous checkpoint whole, and ignores a temporary file a crashed writer left', () => {
    writeFileSync(join(directory, '.features.json.12345.tmp'), '{"version":1,"gpus":[{"gpu_u');
    saveCheckpoint(path, engineWith(4, 3, 30));
    saveCheckpoint(path, engineWith(5, 1, 30));
    expect(loadCheckpoint(path).size).toBe(1);
    expect(readdirSync(directory).sort()).toEqual(['.features.json.12345.tmp', 'features.json']);
  });

  it('leaves the target untouched and no temporary file when the save fails', () => {
    mkdirSync(path);
    writeFileSync(join(path, 'keep'), 'x');
    expect(() => saveCheckpoint(path, engineWith(6, 1, 10))).toThrow();
    expect(readFileSync(join(path, 'keep'), 'utf8')).toBe('x');
    expect(readdirSync(directory)).toEqual(['features.json']);
  });

  it('names the path and the fault of a corrupt file', () => {
    const cases: [string, RegExp][] = [
      ['{"version":1,"gpus":[{"gpu_uuid":"GPU-1","f6', /is not valid JSON/],
      ['', /is not valid JSON/],
      ['{"version":2,"gpus":[]}', /version 2 is not supported/],
      [`{"version":1,"gpus":[{"gpu_uuid":"${GPU}","f64":[1]}]}`, /f64 \(GPU GPU-0+-0000-0000-0000-0+1\) must be an array/],
    ];
    for (const [text, fault] of cases) {
      writeFileSync(path, text);
      expect(() => loadCheckpoint(path)).toThrow(fault);
      expect(() => loadCheckpoint(path)).toThrow(path);
    }
    expect(() => loadCheckpoint(directory)).toThrow(/cannot be read/);
  });
});

import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FailureModel } from './model.js';
import type { ModelManifest } from './manifest.js';
import { testModelPath } from './test-model.js';

const dir = mkdtempSync(join(tmpdir(), 'gpumon-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const committed = JSON.parse(readFileSync(testModelPath(), 'utf8')) as ModelManifest;
const committedOnnx = join(dirname(testModelPath()), committed.onnx_file);

/** A copy of the committed model in its own folder, with `change` applied to the manifest and, optionally, other ONNX bytes. */
function variant(name: string, change: (m: ModelManifest) => unknown, onnx?: Uint8Array): string {
  const folder = mkdtempSync(join(dir, `${name}-`));
  if (onnx === undefined) copyFileSync(committedOnnx, join(folder, committed.onnx_file));
  else writeFileSync(join(folder, committed.onnx_file), onnx);
  const manifest = structuredClone(committed);
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify(change(manifest) ?? manifest));
  return join(folder, 'manifest.json');
}

describe('loading the failure model', () => {
  it('loads the committed model', async () => {
    const model = await FailureModel.load(testModelPath());
    expect(model.featureCount).toBe(committed.features.length);
    await model.release();
  });

  it('refuses a missing manifest or one that is not JSON', async () => {
    await expect(FailureModel.load(join(dir, 'none.json'))).rejects.toThrow(/model manifest .*none\.json: ENOENT/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"name": ');
    await expect(FailureModel.load(broken)).rejects.toThrow(/model manifest .*broken\.json: .*JSON/);
  });

  it('refuses a manifest without the fields serving needs, naming them', async () => {
    const path = variant('fields', (m) => ({ ...m, threshold: 2, horizon_hours: undefined }));
    await expect(FailureModel.load(path)).rejects.toThrow(/is invalid: horizon_hours: .*expected number.*; threshold: .*<=1/);
  });

  it('refuses a missing model file', async () => {
    const path = variant('missing', (m) => ({ ...m, onnx_file: 'elsewhere.onnx' }));
    await expect(FailureModel.load(path)).rejects.toThrow(/model file .*elsewhere\.onnx \(named by .*manifest\.json\): ENOENT/);
  });

  it('refuses a model file whose sha256 is not the manifest\'s', async () => {
    const bytes = readFileSync(committedOnnx);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    const path = variant('sha', () => undefined, bytes);
    await expect(FailureModel.load(path)).rejects.toThrow(/has sha256 [0-9a-f]{64}, but its manifest says [0-9a-f]{64}: the file was changed/);
  });

  it('refuses a corrupt model file even when the hash matches it', async () => {
    const garbage = Buffer.from('not an onnx model at all');
    const path = variant('corrupt', (m) => ({ ...m, sha256: createHash('sha256').update(garbage).digest('hex') }), garbage);
    await expect(FailureModel.load(path)).rejects.toThrow(/model\.onnx is not a model onnxruntime can load/);
  });

  it('refuses a model trained on other features than the engine computes', async () => {
    const swapped = variant('order', (m) => {
      [m.features[0], m.features[1]] = [m.features[1]!, m.features[0]!];
    });
    await expect(FailureModel.load(swapped)).rejects.toThrow(new RegExp(`other features than the feature engine computes: order differs at input 0: the model has ${committed.features[1]!.name}, the engine ${committed.features[0]!.name}`));
    const renamed = variant('renamed', (m) => {
      m.features[3] = { ...m.features[3]!, name: 'gpu_mood' };
    });
    await expect(FailureModel.load(renamed)).rejects.toThrow(new RegExp(`missing from the model: ${committed.features[3]!.name}; unknown to the engine: gpu_mood`));
  });
});

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { FEATURE_NAMES } from '@gpumon/features/definitions';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';

const probability = () => z.number().min(0).max(1);

const manifestSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  onnx_file: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be 64 lowercase hex digits' }),
  input: z.string().min(1),
  output: z.string().min(1),
  features: z.array(z.object({ name: z.string(), unit: z.string(), description: z.string(), reference: z.number().nullable() })).min(1),
  horizon_hours: z.number().int().positive(),
  threshold: probability(),
  risk_bands: z.object({ medium: probability(), high: probability() }).refine((b) => b.medium <= b.high, { error: 'medium must not be above high' }),
  metrics: z.record(z.string(), z.unknown()),
  dataset: z.record(z.string(), z.unknown()),
  trained_at: z.string().refine((v) => !Number.isNaN(Date.parse(v)), { error: 'must be an ISO 8601 time' }),
});

export type ModelManifest = z.infer<typeof manifestSchema>;

/** A verified model: its manifest and the ONNX bytes whose hash the manifest gives. */
export interface ModelFiles {
  manifest: ModelManifest;
  onnx: Uint8Array;
  onnxPath: string;
}

function refuse(message: string, cause?: unknown): GpumonError {
  return new GpumonError('config_invalid', message, { cause });
}

/**
 * Reads and checks a model before anything is served with it: the manifest's fields, the ONNX
 * file's sha256, and that its input features are the feature engine's, in the same order.
 */
export function readModelFiles(manifestPath: string): ModelFiles {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw refuse(`model manifest ${manifestPath}: ${errorMessage(error)}`, error);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw refuse(`model manifest ${manifestPath} is invalid: ${problems}`);
  }
  const manifest = parsed.data;
  const onnxPath = join(dirname(manifestPath), manifest.onnx_file);
  let onnx: Uint8Array;
  try {
    onnx = readFileSync(onnxPath);
  } catch (error) {
    throw refuse(`model file ${onnxPath} (named by ${manifestPath}): ${errorMessage(error)}`, error);
  }
  const actual = createHash('sha256').update(onnx).digest('hex');
  if (actual !== manifest.sha256) {
    throw refuse(`model file ${onnxPath} has sha256 ${actual}, but its manifest says ${manifest.sha256}: the file was changed or belongs to another model`);
  }
  const mismatch = featureMismatch(manifest.features.map((f) => f.name), FEATURE_NAMES);
  if (mismatch !== null) throw refuse(`model ${manifest.name} ${manifest.version} (${manifestPath}) was trained on other features than the feature engine computes: ${mismatch}`);
  return { manifest, onnx, onnxPath };
}

/** What differs between the model's feature list and the engine's, or null when they are equal. */
export function featureMismatch(model: readonly string[], engine: readonly string[]): string | null {
  const missing = engine.filter((name) => !model.includes(name));
  const unknown = model.filter((name) => !engine.includes(name));
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`missing from the model: ${missing.join(', ')}`);
  if (unknown.length > 0) problems.push(`unknown to the engine: ${unknown.join(', ')}`);
  if (problems.length === 0) {
    const at = model.findIndex((name, i) => name !== engine[i]);
    if (at === -1) return null;
    problems.push(`order differs at input ${at}: the model has ${model[at]}, the engine ${engine[at]}`);
  }
  return problems.join('; ');
}

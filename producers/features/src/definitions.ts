import { schemaOf, type AvroRecord } from '@gpumon/schemas/avro';

/** One feature as models and analysts see it: its name in GpuFeatures, what it means and its unit. */
export interface FeatureDefinition {
  name: string;
  description: string;
  unit: string;
}

/**
 * The engine's features in GpuFeatures order, read from the Avro schema they travel in, so the
 * model's input order, the dataset's columns and the docs cannot drift from what the edge sends.
 * The unit is the last parenthesised part of the field's doc (an earlier one may list Xid codes),
 * up to a comma or semicolon.
 */
export const FEATURE_DEFINITIONS: readonly FeatureDefinition[] = readDefinitions();

export const FEATURE_NAMES: readonly string[] = FEATURE_DEFINITIONS.map((d) => d.name);

function readDefinitions(): FeatureDefinition[] {
  const field = schemaOf('samples').fields.find((f) => f.name === 'features');
  const record = Array.isArray(field?.type) ? field.type.find((t): t is AvroRecord => typeof t === 'object' && !Array.isArray(t) && t.type === 'record') : undefined;
  if (record === undefined) throw new Error('gpu.samples.v1 has no GpuFeatures record in its "features" field');
  return record.fields.map((f) => {
    const doc = f.doc ?? '';
    const unit = [...doc.matchAll(/\(([^)]*)\)/g)].at(-1)?.[1]?.split(/[,;]/)[0]?.trim() ?? '';
    return { name: f.name, description: doc, unit };
  });
}

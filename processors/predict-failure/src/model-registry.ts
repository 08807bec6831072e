import type { DatabaseSettings } from '@gpumon/runtime/database';
import { withClient, databaseAddress } from '@gpumon/runtime/database';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import type { ModelManifest } from './manifest.js';

/** Where serving reads a feature: the edge feature engine's output inside each sample. */
const FEATURE_SOURCE = 'gpu.samples.v1 features (producers/features)';

/**
 * Records the model in gpu_models and its inputs in gpu_feature_definitions, in one transaction.
 * Idempotent: a model already recorded keeps its row and its first activation time; a manifest
 * whose sha256 differs from the recorded one for the same name and version is refused, since two
 * different models must not share a version that predictions name.
 */
export async function registerModel(settings: DatabaseSettings, manifest: ModelManifest): Promise<void> {
  try {
    await withClient(settings, async (client) => {
      await client.query('BEGIN');
      try {
        const { rows } = await client.query<{ sha256: string }>(
          `INSERT INTO gpu_models (name, version, sha256, horizon_hours, threshold, risk_bands, metrics, dataset, trained_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (name, version) DO UPDATE SET name = EXCLUDED.name
           RETURNING sha256`,
          [manifest.name, manifest.version, manifest.sha256, manifest.horizon_hours, manifest.threshold,
            JSON.stringify(manifest.risk_bands), JSON.stringify(manifest.metrics), JSON.stringify(manifest.dataset), manifest.trained_at],
        );
        if (rows[0]?.sha256 !== manifest.sha256) {
          throw new GpumonError('config_invalid',
            `gpu_models already holds ${manifest.name} ${manifest.version} with sha256 ${rows[0]?.sha256}, not this model's ${manifest.sha256}: give a retrained model a new version`);
        }
        for (const [position, f] of manifest.features.entries()) {
          await client.query(
            `INSERT INTO gpu_feature_definitions (model_name, model_version, position, name, description, unit, source, reference)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (model_name, model_version, name) DO NOTHING`,
            [manifest.name, manifest.version, position, f.name, f.description, f.unit, FEATURE_SOURCE, f.reference],
          );
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    });
  } catch (error) {
    if (error instanceof GpumonError) throw error;
    throw new GpumonError('database_unavailable',
      `recording model ${manifest.name} ${manifest.version} in gpu_models at ${databaseAddress(settings)}: ${errorMessage(error)}`, { cause: error });
  }
}

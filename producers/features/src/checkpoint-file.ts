import { readFileSync } from 'node:fs';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import { writeStateFile } from '@gpumon/runtime/state-file';
import { FeatureEngine, type FeatureCheckpoint } from './engine.js';

/** Writes the engine's checkpoint to `path` atomically, private to the user (state-file.ts). */
export function saveCheckpoint(path: string, engine: FeatureEngine): void {
  writeStateFile(path, JSON.stringify(engine.checkpoint()));
}

/**
 * The engine saved at `path`; an empty engine when there is no file yet. A file that cannot be read
 * or holds no valid checkpoint throws a GpumonError (decode_failed) naming the path and the fault,
 * so the caller can start afresh with a warning.
 */
export function loadCheckpoint(path: string): FeatureEngine {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new FeatureEngine();
    throw new GpumonError('decode_failed', `feature checkpoint ${path} cannot be read: ${errorMessage(error)}`, { cause: error });
  }
  let checkpoint: unknown;
  try {
    checkpoint = JSON.parse(text);
  } catch (error) {
    throw new GpumonError('decode_failed', `feature checkpoint ${path} is not valid JSON: ${errorMessage(error)}`, { cause: error });
  }
  try {
    return FeatureEngine.restore(checkpoint as FeatureCheckpoint);
  } catch (error) {
    throw new GpumonError('decode_failed', `${path}: ${errorMessage(error)}`, { cause: error });
  }
}

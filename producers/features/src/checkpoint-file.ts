import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import { FeatureEngine, type FeatureCheckpoint } from './engine.js';

/**
 * Writes the engine's checkpoint to `path` atomically: to a temporary file in the same directory,
 * flushed to disk, then renamed over `path` (and the directory flushed), so a crash leaves either the
 * old file or the new one, never half of one.
 */
export function saveCheckpoint(path: string, engine: FeatureEngine): void {
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, JSON.stringify(engine.checkpoint()));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  const directoryFd = openSync(directory, 'r');
  try {
    fsyncSync(directoryFd);
  } finally {
    closeSync(directoryFd);
  }
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

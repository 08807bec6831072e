import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TopicCodec } from '@gpumon/runtime/avro-codec';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import type { Logger } from '@gpumon/runtime/log';
import { writeStateFile } from '@gpumon/runtime/state-file';

interface CachedId {
  subject: string;
  schemaSha256: string;
  id: number;
}

/**
 * Looks up the id of the sample schema (registered by `gpumon topics`), remembering it on disk, so
 * an agent that restarts while the registry is unreachable still encodes (and spools) with the id it had before.
 */
export async function lookupWithCache(codec: TopicCodec<'samples'>, path: string, log: Logger): Promise<number> {
  const schemaSha256 = createHash('sha256').update(codec.schema).digest('hex');
  try {
    const id = await codec.lookup();
    writeStateFile(path, JSON.stringify({ subject: codec.subject, schemaSha256, id } satisfies CachedId));
    return id;
  } catch (error) {
    let cached: CachedId | undefined;
    try {
      cached = JSON.parse(readFileSync(path, 'utf8')) as CachedId;
    } catch {
      cached = undefined;
    }
    if (cached?.subject !== codec.subject || cached.schemaSha256 !== schemaSha256) {
      throw error instanceof GpumonError ? error : new GpumonError('schema_rejected', errorMessage(error), { cause: error });
    }
    log.warn('schema registry unreachable; encoding with the schema id looked up before', { subject: codec.subject, id: cached.id, error: errorMessage(error) });
    codec.assumeRegistered(cached.id);
    return cached.id;
  }
}

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Set by bundle.mjs: the files the agent reads beside its code, by path from the repository root. */
declare const GPUMON_EMBEDDED_FILES: Record<string, string>;

/**
 * The root under which bundle.mjs places every workspace source's `import.meta.url`: a file the
 * agent reads relative to its module (the Avro schemas, the kubelet's .proto) resolves below it.
 */
const EMBEDDED_ROOT = '/gpumon-embedded/';

/**
 * Makes `readFileSync` answer for the files bundled into the agent: the single executable has no
 * files beside it, and the readers (schemas' avro.ts, protobufjs for the .proto) go through
 * `fs.readFileSync`. Every other path reaches the real file system.
 */
function serveEmbeddedFiles(files: Record<string, string>): void {
  const readFileSync = fs.readFileSync as (path: fs.PathOrFileDescriptor, options?: unknown) => string | Buffer;
  const embedded = (path: unknown): string | undefined => {
    const name = path instanceof URL ? fileURLToPath(path) : typeof path === 'string' ? path : undefined;
    return name?.startsWith(EMBEDDED_ROOT) ? files[name.slice(EMBEDDED_ROOT.length)] : undefined;
  };
  fs.readFileSync = ((path: fs.PathOrFileDescriptor, options?: BufferEncoding | { encoding?: BufferEncoding | null } | null) => {
    const text = embedded(path);
    if (text === undefined) return readFileSync(path, options);
    const encoding = typeof options === 'string' ? options : options?.encoding;
    return encoding ? text : Buffer.from(text, 'utf8');
  }) as typeof fs.readFileSync;
}

serveEmbeddedFiles(GPUMON_EMBEDDED_FILES);

import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * A process's own state on disk (the agent's spool, known GPUs, feature windows): private to its
 * user, because it holds values read from root-only files such as /proc/<pid>/environ.
 */
export const STATE_FILE_MODE = 0o600;
export const STATE_DIR_MODE = 0o700;

/** A state file that could not be decoded and was renamed out of the way; its owner counts and logs it. */
export interface SetAsideFile {
  path: string;
  setAsideAs: string;
  error: unknown;
}
export type SetAsideHandler = (file: SetAsideFile) => void;

/** Creates `dir` (and its parents) private to this user when missing. */
export function makeStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: STATE_DIR_MODE });
}

/**
 * Writes `path` so that a crash or power cut leaves either the old file or the new one, never a
 * torn or empty one: a temporary file in the same directory, flushed, renamed over `path`, and
 * the directory flushed so the rename itself survives.
 */
export function writeStateFile(path: string, data: string | Uint8Array): void {
  const temporary = join(dirname(path), `.${basename(path)}.tmp`);
  try {
    // A temporary file left by a crash keeps its old mode through open('w'): fchmod makes it private.
    const fd = openSync(temporary, 'w', STATE_FILE_MODE);
    try {
      fchmodSync(fd, STATE_FILE_MODE);
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  syncDirectory(dirname(path));
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Renames a file that cannot be decoded to `<path>.corrupt-<UTC time>`, kept for a person to
 * look at, so that the process starts afresh instead of failing on it at every start.
 */
export function setAside(path: string, error: unknown, onSetAside: SetAsideHandler, now = Date.now()): void {
  const setAsideAs = `${path}.corrupt-${new Date(now).toISOString().replace(/[-:]/g, '')}`;
  renameSync(path, setAsideAs);
  onSetAside({ path, setAsideAs, error });
}

/**
 * The decoded content of `path`; undefined when there is none yet, or when it cannot be decoded
 * (empty, torn, not what `decode` expects), in which case it is set aside. A file that cannot be
 * read at all (permissions, I/O) throws: that is for an operator to fix, not to discard.
 */
export function readStateFile<T>(path: string, decode: (content: Buffer) => T, onSetAside: SetAsideHandler): T | undefined {
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    if (content.length === 0) throw new Error('the file is empty');
    return decode(content);
  } catch (error) {
    setAside(path, error, onSetAside);
    return undefined;
  }
}

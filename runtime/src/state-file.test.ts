import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { makeStateDir, readStateFile, writeStateFile, type SetAsideFile } from './state-file.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(`${tmpdir()}/gpumon-state-`);
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const decodeJson = (content: Buffer): unknown => JSON.parse(content.toString('utf8'));

describe('state files', () => {
  it('are written whole, private to the user, with no temporary file left, over an older one that was world-readable', () => {
    const dir = `${tempDir()}/state`;
    makeStateDir(dir);
    writeFileSync(`${dir}/known.json`, '[]', { mode: 0o644 });
    writeFileSync(`${dir}/.known.json.tmp`, 'left by a crash', { mode: 0o644 });
    writeStateFile(`${dir}/known.json`, '{"a":1}');
    expect(readFileSync(`${dir}/known.json`, 'utf8')).toBe('{"a":1}');
    expect(statSync(`${dir}/known.json`).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toEqual(['known.json']);
  });

  it('read as undefined when there is none yet', () => {
    expect(readStateFile(`${tempDir()}/none.json`, decodeJson, () => expect.unreachable())).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['torn', '[{"gpu_uuid":"GPU-1","ti'],
  ])('that are %s are set aside as <name>.corrupt-<time>, reported, and read as undefined', (_, text) => {
    const dir = tempDir();
    writeFileSync(`${dir}/known.json`, text);
    const setAside: SetAsideFile[] = [];
    expect(readStateFile(`${dir}/known.json`, decodeJson, (file) => setAside.push(file))).toBeUndefined();
    expect(setAside).toHaveLength(1);
    expect(readdirSync(dir)).toEqual([setAside[0]!.setAsideAs.slice(dir.length + 1)]);
    expect(readFileSync(setAside[0]!.setAsideAs, 'utf8')).toBe(text);
  });
});

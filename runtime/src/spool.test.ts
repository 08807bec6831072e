import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from './spool.js';
import type { SetAsideFile } from './state-file.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(`${tmpdir()}/gpumon-spool-`);
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A spool in `dir`, with the files it sets aside. */
function openSpool(dir: string, maxBytes = 1 << 20): { spool: Spool; setAside: SetAsideFile[] } {
  const setAside: SetAsideFile[] = [];
  return { spool: new Spool(dir, maxBytes, (file) => setAside.push(file)), setAside };
}

const batch = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`GPU-${tag}-${i}`), value: Buffer.from(`value ${tag} ${i}`.repeat(3)) }));

describe('spool', () => {
  it('gives batches back in order and forgets them once acknowledged', () => {
    const spool = openSpool(tempDir()).spool;
    spool.append(batch('a', 3));
    spool.append(batch('b', 2));
    const first = spool.peek()!;
    expect(first.messages).toEqual(batch('a', 3));
    spool.acknowledge(first.seq);
    expect(spool.peek()!.messages).toEqual(batch('b', 2));
    expect(spool.stats()).toMatchObject({ segments: 1, messages: 2, dropped: 0 });
  });

  it('keeps unacknowledged batches across a restart, in order, and continues the sequence', () => {
    const dir = tempDir();
    const before = openSpool(dir).spool;
    before.append(batch('a', 2));
    before.append(batch('b', 2));
    before.acknowledge(before.peek()!.seq);
    const after = openSpool(dir).spool;
    expect(after.stats()).toMatchObject({ segments: 1, messages: 2 });
    after.append(batch('c', 1));
    expect(after.peek()!.messages).toEqual(batch('b', 2));
    after.acknowledge(after.peek()!.seq);
    expect(after.peek()!.messages).toEqual(batch('c', 1));
  });

  it('drops the oldest batches, counted, only when over its bound', () => {
    const one = batch('x', 10).reduce((s, m) => s + 8 + m.key.length + m.value.length, 0);
    const spool = openSpool(tempDir(), one * 3).spool;
    for (const tag of ['a', 'b', 'c']) spool.append(batch(tag, 10));
    expect(spool.stats().dropped).toBe(0);
    expect(spool.append(batch('d', 10))).toBe(10);
    expect(spool.stats()).toMatchObject({ segments: 3, messages: 30, dropped: 10 });
    expect(spool.peek()!.messages).toEqual(batch('b', 10));
  });

  it('ignores a segment a crash left half written', () => {
    const dir = tempDir();
    const spool = openSpool(dir).spool;
    spool.append(batch('a', 1));
    writeFileSync(`${dir}/000000000002.seg.tmp`, 'torn');
    const reopened = openSpool(dir).spool;
    expect(reopened.stats().segments).toBe(1);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it.each([
    ['empty, as a power cut can leave a renamed file whose data never reached the disk', (path: string) => truncateSync(path, 0)],
    ['torn in the middle of a message', (path: string) => truncateSync(path, statSync(path).size - 3)],
    ['garbage', (path: string) => writeFileSync(path, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 7]))],
  ])('sets aside a segment that is %s, and starts with the others', (_, damage) => {
    const dir = tempDir();
    const { spool } = openSpool(dir);
    spool.append(batch('a', 2));
    spool.append(batch('b', 2));
    spool.append(batch('c', 2));
    damage(`${dir}/000000000002.seg`);
    const reopened = openSpool(dir);
    expect(reopened.setAside.map((f) => f.path)).toEqual([`${dir}/000000000002.seg`]);
    expect(reopened.setAside[0]!.setAsideAs).toMatch(/000000000002\.seg\.corrupt-\d{8}T\d{6}\.\d{3}Z$/);
    expect(reopened.spool.stats()).toMatchObject({ segments: 2, messages: 4 });
    expect(reopened.spool.peek()!.messages).toEqual(batch('a', 2));
    reopened.spool.acknowledge(reopened.spool.peek()!.seq);
    expect(reopened.spool.peek()!.messages).toEqual(batch('c', 2));
    // The set-aside number is not reused: the next segment comes after every one seen.
    reopened.spool.append(batch('d', 1));
    expect(readdirSync(dir).filter((n) => n.endsWith('.seg'))).toEqual(['000000000003.seg', '000000000004.seg']);
  });

  it('sets aside a segment damaged while it waits to be sent, and gives the next one', () => {
    const dir = tempDir();
    const { spool, setAside } = openSpool(dir);
    spool.append(batch('a', 2));
    spool.append(batch('b', 2));
    truncateSync(`${dir}/000000000001.seg`, 5);
    expect(spool.peek()!.messages).toEqual(batch('b', 2));
    expect(setAside).toHaveLength(1);
    expect(spool.stats()).toMatchObject({ segments: 1, messages: 2 });
  });

  it('keeps its segments private to the agent\'s user: files 0600 in a directory 0700', () => {
    const dir = `${tempDir()}/spool`;
    const { spool } = openSpool(dir);
    spool.append(batch('a', 1));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const name of readdirSync(dir)) expect(statSync(`${dir}/${name}`).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${dir}/000000000001.seg`).length).toBeGreaterThan(0);
  });
});

import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from './spool.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(`${tmpdir()}/gpumon-spool-`);
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const batch = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`GPU-${tag}-${i}`), value: Buffer.from(`value ${tag} ${i}`.repeat(3)) }));

describe('spool', () => {
  it('gives batches back in order and forgets them once acknowledged', () => {
    const spool = new Spool(tempDir(), 1 << 20);
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
    const before = new Spool(dir, 1 << 20);
    before.append(batch('a', 2));
    before.append(batch('b', 2));
    before.acknowledge(before.peek()!.seq);
    const after = new Spool(dir, 1 << 20);
    expect(after.stats()).toMatchObject({ segments: 1, messages: 2 });
    after.append(batch('c', 1));
    expect(after.peek()!.messages).toEqual(batch('b', 2));
    after.acknowledge(after.peek()!.seq);
    expect(after.peek()!.messages).toEqual(batch('c', 1));
  });

  it('drops the oldest batches, counted, only when over its bound', () => {
    const one = batch('x', 10).reduce((s, m) => s + 8 + m.key.length + m.value.length, 0);
    const spool = new Spool(tempDir(), one * 3);
    for (const tag of ['a', 'b', 'c']) spool.append(batch(tag, 10));
    expect(spool.stats().dropped).toBe(0);
    expect(spool.append(batch('d', 10))).toBe(10);
    expect(spool.stats()).toMatchObject({ segments: 3, messages: 30, dropped: 10 });
    expect(spool.peek()!.messages).toEqual(batch('b', 10));
  });

  it('ignores a segment a crash left half written', () => {
    const dir = tempDir();
    const spool = new Spool(dir, 1 << 20);
    spool.append(batch('a', 1));
    writeFileSync(`${dir}/000000000002.seg.tmp`, 'torn');
    const reopened = new Spool(dir, 1 << 20);
    expect(reopened.stats().segments).toBe(1);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

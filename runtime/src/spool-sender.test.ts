import { mkdirSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from './log.js';
import { Spool } from './spool.js';
import { SpoolSender } from './spool-sender.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('SpoolSender', () => {
  it('keeps running, and says why, when the spool cannot be read (it ended the agent\'s sender for good)', async () => {
    const dir = mkdtempSync(`${tmpdir()}/gpumon-sender-`);
    dirs.push(dir);
    const spool = new Spool(dir, 1 << 20, () => undefined);
    spool.append([{ key: Buffer.from('GPU-1'), value: Buffer.from('sample') }]);
    // A segment that reads as neither bytes nor absent: EISDIR, an I/O fault for the sender.
    unlinkSync(`${dir}/000000000001.seg`);
    mkdirSync(`${dir}/000000000001.seg`);
    const warnings: string[] = [];
    let warned: () => void = () => undefined;
    const firstWarning = new Promise<void>((resolve) => (warned = resolve));
    const log: Logger = {
      debug: () => undefined, info: () => undefined, error: () => undefined,
      warn: (message, fields) => {
        warnings.push(`${message} ${String(fields?.error)}`);
        warned();
      },
    };
    const stop = new AbortController();
    const sender = new SpoolSender(spool, 'gpu.samples.v1', () => Promise.reject(new Error('no Kafka in this test')), log, { sent: () => undefined, refused: () => undefined });
    const running = sender.run(stop.signal);
    await Promise.race([firstWarning, running]);
    stop.abort();
    await expect(running).resolves.toBeUndefined();
    expect(warnings[0]).toMatch(/^cannot send to Kafka; keeping samples in the spool .*EISDIR/);
  });
});

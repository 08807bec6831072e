import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCli } from './cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'gpumon-dataset-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function dataset(workers: number): Promise<{ sha256: string; bytes: number; rows: number; positives: number }> {
  const out = join(dir, `w${workers}.csv.gz`);
  const cli = startCli(['dataset', '--gpus', '40', '--days', '2', '--fault-rate-scale', '200', '--workers', String(workers), '--out', out], {});
  expect(await cli.exited, cli.output()).toBe(0);
  return JSON.parse(readFileSync(join(dir, `w${workers}.json`), 'utf8')) as { sha256: string; bytes: number; rows: number; positives: number };
}

describe('gpumon dataset, as a user runs it', () => {
  it('writes the same CSV whatever the number of worker threads', async () => {
    const one = await dataset(1);
    const three = await dataset(3);
    // 40 GPUs × 48 hourly rows, less the rows after each GPU's failure.
    expect(one.rows).toBeGreaterThan(40 * 40);
    expect(one.rows).toBeLessThanOrEqual(40 * 48);
    expect(one.positives).toBeGreaterThan(0);
    expect(three).toEqual({ ...one, file: expect.stringContaining('w3.csv.gz') });
  }, 120_000);
});

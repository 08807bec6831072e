import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readFailureReason } from './problem.js';
import { readProcesses } from './proc.js';

const PROC = fileURLToPath(new URL('../../testdata/attribution/proc', import.meta.url));

let scratch: string | undefined;
afterEach(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

describe('readProcesses', () => {
  it('reads the fixture host: pods by cgroup (environment not read), Slurm jobs by cgroup or environment, an exited pid', async () => {
    const { facts, problems } = await readProcesses(PROC, [485, 490, 485, 4242, 4300, 5100, 5200, 7001, 7100]);
    expect(Object.fromEntries(facts)).toEqual({
      485: { cgroup: { kind: 'kubernetes', podUid: '7c9e1f2a-3b4d-4e5f-8a6b-1c2d3e4f5a6b', containerId: expect.stringMatching(/^3f9a2c1b7d4e/) }, environJob: null },
      490: { cgroup: { kind: 'kubernetes', podUid: '7c9e1f2a-3b4d-4e5f-8a6b-1c2d3e4f5a6b', containerId: expect.stringMatching(/^3f9a2c1b7d4e/) }, environJob: null },
      4300: { cgroup: null, environJob: null },
      5100: { cgroup: { kind: 'kubernetes', podUid: '1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e', containerId: expect.stringMatching(/^9e8d7c6b5a4f/) }, environJob: null },
      5200: { cgroup: { kind: 'kubernetes', podUid: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', containerId: expect.stringMatching(/^5d4c3b2a1f0e/) }, environJob: null },
      7001: { cgroup: { kind: 'slurm', jobId: '9001' }, environJob: { jobId: '9001', user: 'alice', account: 'physics', partition: 'gpu' } },
      7100: { cgroup: null, environJob: { jobId: '9002', user: 'bob', account: 'chem', partition: 'gpu-short' } },
    });
    expect(problems).toEqual([{ source: 'cgroup', reason: 'exited', message: 'pid 4242: exited before /proc was read', pid: 4242 }]);
  });

  it('names the pid and file it cannot read', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'gpumon-proc-'));
    cpSync(PROC, scratch, { recursive: true });
    rmSync(join(scratch, '4300', 'environ'));
    mkdirSync(join(scratch, '4300', 'environ'));
    const { facts, problems } = await readProcesses(scratch, [4300]);
    expect(facts.get(4300)).toEqual({ cgroup: null, environJob: null });
    expect(problems).toEqual([{
      source: 'environ', reason: 'unreadable', pid: 4300,
      message: `pid 4300: ${scratch}/4300/environ: EISDIR: illegal operation on a directory, read`,
    }]);
  });
});

describe('readFailureReason', () => {
  const failure = (code: string) => Object.assign(new Error(code), { code });

  it('tells an exited process, a forbidden file and other failures apart', () => {
    expect(readFailureReason(failure('ENOENT'))).toBe('exited');
    expect(readFailureReason(failure('ESRCH'))).toBe('exited');
    expect(readFailureReason(failure('EACCES'))).toBe('permission_denied');
    expect(readFailureReason(failure('EPERM'))).toBe('permission_denied');
    expect(readFailureReason(failure('EIO'))).toBe('unreadable');
  });
});

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSlurmJobMapFile, readSlurmJobMap } from './slurm-job-map.js';

const MAP = fileURLToPath(new URL('../../testdata/attribution/slurm-jobs', import.meta.url));
const job = (jobId: string, user: string | null = null, account: string | null = null, partition: string | null = null) => ({ jobId, user, account, partition });

let scratch: string | undefined;
afterEach(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

describe('parseSlurmJobMapFile', () => {
  it('reads job id lines, several jobs sharing a GPU, comments and blank lines skipped', () => {
    expect(parseSlurmJobMapFile('9002\n')).toEqual({ jobs: [job('9002')] });
    expect(parseSlurmJobMapFile('# written by prolog\n9002\n\n9003 9004\n9002\n')).toEqual({ jobs: [job('9002'), job('9003'), job('9004')] });
  });

  it('reads KEY=VALUE lines as a prolog writes its environment, quotes and export allowed', () => {
    expect(parseSlurmJobMapFile('SLURM_JOB_ID=9001\nexport SLURM_JOB_USER="alice"\nSLURM_JOB_ACCOUNT=physics\nSLURM_JOB_PARTITION=\'gpu\'\n'))
      .toEqual({ jobs: [job('9001', 'alice', 'physics', 'gpu')] });
  });

  it('takes an empty file as no job: an epilog that truncates rather than deletes', () => {
    expect(parseSlurmJobMapFile('')).toEqual({ jobs: [] });
    expect(parseSlurmJobMapFile('\n  \n')).toEqual({ jobs: [] });
  });

  it('refuses a file it cannot read whole, saying why', () => {
    expect(parseSlurmJobMapFile('SLURM_JOB_USER=carol\n')).toEqual({ problem: 'no job id in it' });
    expect(parseSlurmJobMapFile('SLURM_JOB_ID=1\n9002\n')).toEqual({ problem: '"9002" is not a KEY=VALUE line' });
    expect(parseSlurmJobMapFile('job 9002\n')).toEqual({ problem: '"job" is not a Slurm job id' });
    expect(parseSlurmJobMapFile(`${'x'.repeat(100_000)}\n`)).toEqual({ problem: `"${'x'.repeat(64)}…" is not a Slurm job id` });
    expect(parseSlurmJobMapFile('SLURM_JOB_ID=$(id)\n')).toEqual({ problem: 'no job id in it' });
  });
});

describe('readSlurmJobMap', () => {
  it('reads the fixture host\'s map: UUID-named files used, an index-named one refused, a malformed one reported on its GPU', async () => {
    const map = await readSlurmJobMap(MAP);
    expect(map.devices).toEqual([
      { path: join(MAP, 'MIG-4f6e0d2c-1a3b-5c7d-9e8f-0a1b2c3d4e5f'), deviceUuid: 'MIG-4f6e0d2c-1a3b-5c7d-9e8f-0a1b2c3d4e5f', jobs: [job('9001', 'alice', 'physics', 'gpu')] },
      { path: join(MAP, 'MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f'), deviceUuid: 'MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f', jobs: [job('9002')] },
    ]);
    expect(map.problems).toEqual([
      { source: 'slurm-job-map', reason: 'not_a_uuid', message: `slurm job map ${MAP}/0: named by neither a GPU nor a MIG UUID: not used (indexes change with CUDA_VISIBLE_DEVICES and enumeration order)` },
      { source: 'slurm-job-map', reason: 'malformed', message: `slurm job map ${MAP}/GPU-72afe7aa-2a11-ec75-c9b6-c4fc6a41ab11: no job id in it`, deviceUuid: 'GPU-72afe7aa-2a11-ec75-c9b6-c4fc6a41ab11' },
    ]);
  });

  it('skips a file still being written (a dot-file a prolog renames into place)', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'gpumon-slurm-map-'));
    cpSync(MAP, scratch, { recursive: true });
    writeFileSync(join(scratch, '.GPU-3c1d2b0e-5f4a-4e8b-9a7c-6d2e1f0a9b8c.tmp'), 'SLURM_JOB');
    const map = await readSlurmJobMap(scratch);
    expect(map.devices.map((device) => device.deviceUuid)).toEqual(['MIG-4f6e0d2c-1a3b-5c7d-9e8f-0a1b2c3d4e5f', 'MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f']);
    expect(map.problems.map((problem) => problem.reason)).toEqual(['not_a_uuid', 'malformed']);
  });

  it('names a configured directory that does not exist', async () => {
    expect(await readSlurmJobMap('/nonexistent/slurm-jobs')).toEqual({
      devices: [],
      problems: [{ source: 'slurm-job-map', reason: 'unreadable', message: "slurm job map /nonexistent/slurm-jobs: ENOENT: no such file or directory, scandir '/nonexistent/slurm-jobs'" }],
    });
  });
});

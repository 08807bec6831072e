import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_NAME_CHARS, parseEnviron, slurmJobOf } from './slurm-job.js';

const PROC = new URL('../../testdata/attribution/proc/', import.meta.url);

describe('parseEnviron and slurmJobOf', () => {
  it('reads the job of a process of the fixture host, keeping only Slurm\'s variables', () => {
    const variables = parseEnviron(readFileSync(new URL('7100/environ', PROC), 'utf8'));
    expect(variables.get('OPTS')).toBe('a=b');
    expect(slurmJobOf(variables)).toEqual({ jobId: '9002', user: 'bob', account: 'chem', partition: 'gpu-short' });
  });

  it('reads the older SLURM_JOBID spelling; absent details are null', () => {
    expect(slurmJobOf(parseEnviron('SLURM_JOBID=55\0HOME=/root\0'))).toEqual({ jobId: '55', user: null, account: null, partition: null });
  });

  it('gives null for a process outside any job, or with an empty job id', () => {
    expect(slurmJobOf(parseEnviron(readFileSync(new URL('4300/environ', PROC), 'utf8')))).toBeNull();
    expect(slurmJobOf(parseEnviron('SLURM_JOB_ID=\0SLURM_JOB_USER=bob\0'))).toBeNull();
    expect(slurmJobOf(parseEnviron(''))).toBeNull();
  });

  it('refuses a job id Slurm never gives, and cuts names a process can make as long as it likes', () => {
    expect(slurmJobOf(parseEnviron(`SLURM_JOB_ID=${'9'.repeat(10)}x\0`))).toBeNull();
    expect(slurmJobOf(parseEnviron(`SLURM_JOB_ID=12_3\0SLURM_JOB_USER=${'u'.repeat(120_000)}\0SLURM_JOB_ACCOUNT=${'a'.repeat(129)}\0`)))
      .toEqual({ jobId: '12_3', user: 'u'.repeat(MAX_NAME_CHARS), account: 'a'.repeat(MAX_NAME_CHARS), partition: null });
  });
});

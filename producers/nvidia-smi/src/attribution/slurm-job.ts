/** A Slurm job as its environment or the prolog's job map names it. */
export interface SlurmJob {
  jobId: string;
  user: string | null;
  account: string | null;
  partition: string | null;
}

/** SLURM_JOB_ID is the job's own id (for array tasks too, so it matches the job's cgroup); SLURM_JOBID is its older spelling. */
const JOB_ID_KEYS = ['SLURM_JOB_ID', 'SLURM_JOBID'] as const;

/**
 * The job named by Slurm's variables (SLURM_JOB_ID, SLURM_JOB_USER, SLURM_JOB_ACCOUNT,
 * SLURM_JOB_PARTITION) among `variables`; null when no job id is set. Other variables are
 * ignored, so nothing else of a process's environment (tokens, keys) is kept.
 */
export function slurmJobOf(variables: ReadonlyMap<string, string>): SlurmJob | null {
  const jobId = JOB_ID_KEYS.map((key) => variables.get(key)?.trim()).find((value) => value !== undefined && value !== '');
  if (jobId === undefined) return null;
  const optional = (key: string): string | null => {
    const value = variables.get(key)?.trim();
    return value === undefined || value === '' ? null : value;
  };
  return {
    jobId,
    user: optional('SLURM_JOB_USER'),
    account: optional('SLURM_JOB_ACCOUNT'),
    partition: optional('SLURM_JOB_PARTITION'),
  };
}

/** `/proc/<pid>/environ`: NUL-separated KEY=VALUE entries, the values free to hold `=`. */
export function parseEnviron(text: string): Map<string, string> {
  const variables = new Map<string, string>();
  for (const entry of text.split('\0')) {
    const equals = entry.indexOf('=');
    if (equals > 0) variables.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  return variables;
}

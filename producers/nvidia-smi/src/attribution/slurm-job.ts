/** A Slurm job as its environment or the prolog's job map names it. */
export interface SlurmJob {
  jobId: string;
  user: string | null;
  account: string | null;
  partition: string | null;
}

/** A Slurm job id; `<job>_<task>` for an array task. */
export const SLURM_JOB_ID = /^\d+(?:_\d+)?$/;

/**
 * Longest user, account or partition name kept, cut beyond: real ones are far shorter, and any
 * process can put megabytes in its own environment, which would otherwise ride in every sample.
 */
export const MAX_NAME_CHARS = 128;

/** SLURM_JOB_ID is the job's own id (for array tasks too, so it matches the job's cgroup); SLURM_JOBID is its older spelling. */
const JOB_ID_KEYS = ['SLURM_JOB_ID', 'SLURM_JOBID'] as const;

/**
 * The job named by Slurm's variables (SLURM_JOB_ID, SLURM_JOB_USER, SLURM_JOB_ACCOUNT,
 * SLURM_JOB_PARTITION) among `variables`; null when no job id is set, or not one Slurm gives.
 * Other variables are ignored, so nothing else of a process's environment (tokens, keys) is kept;
 * names are cut at MAX_NAME_CHARS.
 */
export function slurmJobOf(variables: ReadonlyMap<string, string>): SlurmJob | null {
  const jobId = JOB_ID_KEYS.map((key) => variables.get(key)?.trim()).find((value) => value !== undefined && value !== '');
  if (jobId === undefined || !SLURM_JOB_ID.test(jobId)) return null;
  const optional = (key: string): string | null => {
    const value = variables.get(key)?.trim();
    return value === undefined || value === '' ? null : value.slice(0, MAX_NAME_CHARS);
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

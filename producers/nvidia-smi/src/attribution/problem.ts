/** Where an attribution fact comes from; also the `source` label of gpumon_agent_attribution_problems_total. */
export type AttributionSource = 'cgroup' | 'environ' | 'slurm-job-map' | 'pod-resources' | 'nvidia-smi-list';

/** The closed set of the counter's `reason` label. */
export type ProblemReason =
  | 'exited'
  | 'permission_denied'
  | 'unreadable'
  | 'malformed'
  | 'not_a_uuid'
  | 'unknown_device'
  | 'unreachable';

/**
 * Why part of this round's attribution is missing. It shows on the sample that lists `pid`, on the
 * sample of `deviceUuid` (a GPU, or the GPU holding that MIG device), else on every sample of the host.
 */
export interface AttributionProblem {
  source: AttributionSource;
  reason: ProblemReason;
  message: string;
  pid?: number;
  deviceUuid?: string;
}

/** errno codes of a file read, as a reason: the file is gone, forbidden, or broken otherwise. */
export function readFailureReason(error: unknown): ProblemReason {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ESRCH') return 'exited';
  if (code === 'EACCES' || code === 'EPERM') return 'permission_denied';
  return 'unreadable';
}

/** Text read from a file or a peer, quoted in a problem: cut, since it can be anything, of any length. */
export function quoted(text: string, maxChars = 64): string {
  return `"${text.length > maxChars ? `${text.slice(0, maxChars)}…` : text}"`;
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '@gpumon/runtime/errors';
import { parseCgroup, type CgroupOwner } from './cgroup.js';
import { readFailureReason, type AttributionProblem } from './problem.js';
import { parseEnviron, slurmJobOf, type SlurmJob } from './slurm-job.js';

/** What /proc says about one GPU process. */
export interface ProcessFacts {
  cgroup: CgroupOwner | null;
  /** The Slurm job in its environment; null when it names none or was not read (a pod container's). */
  environJob: SlurmJob | null;
}

export interface ProcReadout {
  /** Only pids whose /proc entry could be read. */
  facts: Map<number, ProcessFacts>;
  problems: AttributionProblem[];
}

/**
 * Reads `<procRoot>/<pid>/cgroup` (world-readable) for each pid, and `<procRoot>/<pid>/environ`
 * (root or the process's own user only) for those the cgroup does not place in a pod: the
 * environment is the fallback for Slurm jobs whose cgroup plugin is off. A pid that exited since
 * nvidia-smi listed it, or an entry that cannot be read, gives a problem naming the pid and file.
 */
export async function readProcesses(procRoot: string, pids: Iterable<number>): Promise<ProcReadout> {
  const facts = new Map<number, ProcessFacts>();
  const problems: AttributionProblem[] = [];
  await Promise.all([...new Set(pids)].map(async (pid) => {
    const cgroupText = await readProcFile(procRoot, pid, 'cgroup', problems);
    if (cgroupText === null) return;
    const cgroup = parseCgroup(cgroupText);
    let environJob: SlurmJob | null = null;
    if (cgroup?.kind !== 'kubernetes') {
      const environ = await readProcFile(procRoot, pid, 'environ', problems);
      environJob = environ === null ? null : slurmJobOf(parseEnviron(environ));
    }
    facts.set(pid, { cgroup, environJob });
  }));
  // Reads end in any order: sorted, so a round's output does not depend on which ended first.
  problems.sort((a, b) => a.message.localeCompare(b.message));
  return { facts, problems };
}

const DENIED_WHY = {
  cgroup: 'is /proc mounted with hidepid?',
  environ: 'readable by root and the process\'s own user only',
} as const;

async function readProcFile(procRoot: string, pid: number, file: 'cgroup' | 'environ', problems: AttributionProblem[]): Promise<string | null> {
  const path = join(procRoot, String(pid), file);
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const reason = readFailureReason(error);
    const message =
      reason === 'exited' ? `pid ${pid}: exited before /proc was read`
      : reason === 'permission_denied' ? `pid ${pid}: ${path}: permission denied (${DENIED_WHY[file]})`
      : `pid ${pid}: ${path}: ${errorMessage(error)}`;
    problems.push({ source: file, reason, message, pid });
    return null;
  }
}

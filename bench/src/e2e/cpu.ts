import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where stack.sh keeps the pids of the services it started. */
const RUN_DIR = `${process.env.GPUMON_HOME ?? fileURLToPath(new URL('../../../.gpumon', import.meta.url))}/run`;

/**
 * Which CPU time of a process: all of it (user and system), or the kernel's part alone (system:
 * its system calls and page faults, e.g. copying written pages into the page cache).
 */
export type CpuPart = 'all' | 'kernel';

/** CPU ticks of `part` in a `stat` file of /proc; with `reaped`, also its exited children's. */
function statTicks(path: string, reaped: boolean, part: CpuPart = 'all'): number {
  // Fields after the command name, which may hold spaces: utime, stime, cutime, cstime are the 12th to 15th.
  const fields = readFileSync(path, 'utf8').replace(/^.*\) /s, '').split(' ').map(Number);
  const kernel = fields[12]! + (reaped ? fields[14]! : 0);
  return part === 'kernel' ? kernel : fields[11]! + (reaped ? fields[13]! : 0) + kernel;
}

/**
 * CPU seconds of `part` (all threads) a process has used so far; 0 once it is gone. With
 * `reaped`, also what its children used that have exited (PostgreSQL's ended backends).
 */
export function cpuSeconds(pid: number, reaped = false, part: CpuPart = 'all'): number {
  try {
    return statTicks(`/proc/${pid}/stat`, reaped, part) / 100;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds so far of a Node process's V8 helper threads ("V8Worker": concurrent marking,
 * sweeping and parallel scavenges of the garbage collector, and background compilation), a part of
 * its cpuSeconds; 0 once it is gone. `self` for this process.
 */
export function v8HelperCpuSeconds(pid: number | 'self'): number {
  let ticks = 0;
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        if (readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim() === 'V8Worker') ticks += statTicks(`/proc/${pid}/task/${task}/stat`, false);
      } catch {
        // A thread that ended between the listing and the read.
      }
    }
  } catch {
    return 0;
  }
  return ticks / 100;
}

function stackPid(service: string): number | undefined {
  try {
    return Number(readFileSync(`${RUN_DIR}/${service}.pid`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** Children of `parent` (PostgreSQL's backends and workers under the postmaster). */
function childrenOf(parent: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
      if (ppid === parent) found.push(Number(entry));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return found;
}

/** CPU seconds of `part` so far of the stack that stack.sh started: Kafka, the registry, PostgreSQL with its backends. */
export function stackCpuSeconds(part: CpuPart = 'all'): Record<'kafka' | 'registry' | 'postgres', number> {
  const postmaster = stackPid('postgres');
  const postgres = postmaster === undefined ? 0 : cpuSeconds(postmaster, true, part) + childrenOf(postmaster).reduce((sum, pid) => sum + cpuSeconds(pid, false, part), 0);
  const kafka = stackPid('kafka');
  const registry = stackPid('registry');
  return {
    kafka: kafka === undefined ? 0 : cpuSeconds(kafka, false, part),
    registry: registry === undefined ? 0 : cpuSeconds(registry, false, part),
    postgres,
  };
}

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '@gpumon/runtime/errors';
import { quoted, readFailureReason, type AttributionProblem } from './problem.js';
import { SLURM_JOB_ID, slurmJobOf, type SlurmJob } from './slurm-job.js';

/** The jobs a prolog says hold one GPU or MIG device. */
export interface DeviceJobs {
  /** The file that says so. */
  path: string;
  deviceUuid: string;
  jobs: SlurmJob[];
}

export interface SlurmJobMap {
  devices: DeviceJobs[];
  problems: AttributionProblem[];
}

const DEVICE_UUID = /^(GPU|MIG)-[0-9A-Fa-f-]+$/;

/**
 * One job map file: job id lines (dcgm-exporter's HPC job mapping; several jobs may share a GPU),
 * or KEY=VALUE lines (SLURM_JOB_ID, SLURM_JOB_USER, SLURM_JOB_ACCOUNT, SLURM_JOB_PARTITION, as a
 * prolog can write them from its environment). Blank lines and `#` comments are skipped; an empty
 * file means no job (an epilog that truncates instead of deleting). Anything else is refused whole,
 * with why: a half-read file would name the wrong job.
 */
export function parseSlurmJobMapFile(text: string): { jobs: SlurmJob[] } | { problem: string } {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.some((line) => line.includes('='))) {
    const variables = new Map<string, string>();
    for (const line of lines) {
      const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
      if (match === null) return { problem: `${quoted(line)} is not a KEY=VALUE line` };
      variables.set(match[1]!, match[2]!.replace(/^(["'])(.*)\1$/, '$2'));
    }
    const job = slurmJobOf(variables);
    return job === null ? { problem: 'no job id in it' } : { jobs: [job] };
  }
  const ids = lines.flatMap((line) => line.split(/\s+/));
  const bad = ids.find((id) => !SLURM_JOB_ID.test(id));
  if (bad !== undefined) return { problem: `${quoted(bad)} is not a Slurm job id` };
  return { jobs: [...new Set(ids)].map((jobId) => ({ jobId, user: null, account: null, partition: null })) };
}

/**
 * Every file of the job map directory. Files are named by GPU or MIG UUID; one named otherwise
 * (an index such as `0`, as dcgm-exporter also accepts) is not used, because indexes follow
 * CUDA_VISIBLE_DEVICES and PCI enumeration order and so can name another GPU than the one the job holds.
 */
export async function readSlurmJobMap(dir: string): Promise<SlurmJobMap> {
  const devices: DeviceJobs[] = [];
  const problems: AttributionProblem[] = [];
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((entry) => !entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    problems.push({ source: 'slurm-job-map', reason: readFailureReason(error) === 'permission_denied' ? 'permission_denied' : 'unreadable', message: `slurm job map ${dir}: ${errorMessage(error)}` });
    return { devices, problems };
  }
  await Promise.all(names.map(async (name) => {
    const path = join(dir, name);
    // Prologs write to a dot-file and rename it into place; a dot-file is one still being written.
    if (name.startsWith('.')) return;
    if (!DEVICE_UUID.test(name)) {
      problems.push({ source: 'slurm-job-map', reason: 'not_a_uuid', message: `slurm job map ${path}: named by neither a GPU nor a MIG UUID: not used (indexes change with CUDA_VISIBLE_DEVICES and enumeration order)` });
      return;
    }
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      // An epilog removed it since the listing: the device is free.
      if (readFailureReason(error) === 'exited') return;
      problems.push({ source: 'slurm-job-map', reason: readFailureReason(error), message: `slurm job map ${path}: ${errorMessage(error)}`, deviceUuid: name });
      return;
    }
    const parsed = parseSlurmJobMapFile(text);
    if ('problem' in parsed) problems.push({ source: 'slurm-job-map', reason: 'malformed', message: `slurm job map ${path}: ${parsed.problem}`, deviceUuid: name });
    else devices.push({ path, deviceUuid: name, jobs: parsed.jobs });
  }));
  // Reads end in any order: sorted, so a round's output does not depend on which ended first.
  devices.sort((a, b) => a.deviceUuid.localeCompare(b.deviceUuid));
  problems.sort((a, b) => a.message.localeCompare(b.message));
  return { devices, problems };
}

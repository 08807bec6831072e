import { existsSync } from 'node:fs';
import { errorMessage } from '@gpumon/runtime/errors';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { runCommand } from '../run-command.js';
import { attributeSamples, type Attributed } from './attribute.js';
import { parseNvidiaSmiList, type MigDevice } from './mig-devices.js';
import { listPodDevices, type PodDevices } from './pod-resources.js';
import type { AttributionProblem } from './problem.js';
import { readProcesses } from './proc.js';
import { readSlurmJobMap, type SlurmJobMap } from './slurm-job-map.js';

export interface AttributionSettings {
  procRoot: string;
  slurmJobMapDir: string;
  podResourcesSocket: string;
  podResourcesTimeoutMs: number;
  cluster: string | null;
  /** nvidia-smi, run with `-L` to name MIG devices, and its timeout. */
  nvidiaSmi: string;
  nvidiaSmiTimeoutMs: number;
  /** Paths left at their defaults: where one does not exist, that source is absent from the host, not failing. */
  defaults: { slurmJobMapDir: boolean; podResourcesSocket: boolean };
}

export interface RoundAttribution extends Attributed {
  /** Default sources this host does not have, one line each, to log once. */
  absent: string[];
}

/**
 * Reads every attribution source of the host at once and attributes the round's samples. Never
 * throws: a source that fails leaves its part empty and says why in the problems. The kubelet call
 * is bounded by its timeout and nvidia-smi -L by the collection timeout; /proc and the job map are
 * small local reads.
 */
export async function attributeRound(samples: readonly GpuSample[], settings: AttributionSettings): Promise<RoundAttribution> {
  const absent: string[] = [];
  const problems: AttributionProblem[] = [];
  const pids = samples.flatMap((sample) => (sample.processes ?? []).map((process) => process.pid));

  const podSocketAbsent = settings.defaults.podResourcesSocket && !existsSync(settings.podResourcesSocket);
  if (podSocketAbsent) absent.push(`pod-resources socket ${settings.podResourcesSocket} not found: no Kubernetes pod names (not a Kubernetes node?)`);
  const jobMapAbsent = settings.defaults.slurmJobMapDir && !existsSync(settings.slurmJobMapDir);
  if (jobMapAbsent) absent.push(`slurm job map ${settings.slurmJobMapDir} not found: no Slurm jobs from a prolog (not a Slurm node?)`);

  const [proc, podDevices, jobMap, migDevices] = await Promise.all([
    readProcesses(settings.procRoot, pids),
    podSocketAbsent ? [] : listPodDevices(settings.podResourcesSocket, settings.podResourcesTimeoutMs).catch((error: unknown): PodDevices[] => {
      problems.push({ source: 'pod-resources', reason: 'unreachable', message: errorMessage(error) });
      return [];
    }),
    jobMapAbsent ? { devices: [], problems: [] } satisfies SlurmJobMap : readSlurmJobMap(settings.slurmJobMapDir),
    samples.some((sample) => sample.mig_mode_enabled === true) ? migDevicesOf(settings, problems) : [],
  ]);
  const attributed = attributeSamples(samples, {
    processes: proc.facts,
    podDevices,
    slurmJobs: jobMap.devices,
    migDevices,
    problems: [...proc.problems, ...jobMap.problems, ...problems],
    cluster: settings.cluster,
  });
  return { ...attributed, absent };
}

/** MIG device UUIDs and profiles, which `-q -x` does not print (parse.ts). */
async function migDevicesOf(settings: AttributionSettings, problems: AttributionProblem[]): Promise<MigDevice[]> {
  try {
    return parseNvidiaSmiList(await runCommand({ command: settings.nvidiaSmi, args: ['-L'], timeoutMs: settings.nvidiaSmiTimeoutMs }));
  } catch (error) {
    problems.push({ source: 'nvidia-smi-list', reason: 'unreachable', message: `MIG devices not named: ${errorMessage(error)}` });
    return [];
  }
}

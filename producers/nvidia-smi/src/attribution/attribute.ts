import type { GpuProcess, GpuSample, Workload } from '@gpumon/schemas/types.generated';
import { devicePlaces, migPlaceOf, type DevicePlace } from './device-places.js';
import type { MigDevice } from './mig-devices.js';
import type { PodDevices } from './pod-resources.js';
import { quoted, type AttributionProblem } from './problem.js';
import type { ProcessFacts } from './proc.js';
import type { DeviceJobs } from './slurm-job-map.js';
import type { SlurmJob } from './slurm-job.js';

/** What this round's sources said about the host; a source that is absent or failed gives [] and its problems. */
export interface HostFacts {
  /** By pid, for the pids whose /proc entry could be read. */
  processes: ReadonlyMap<number, ProcessFacts>;
  podDevices: readonly PodDevices[];
  slurmJobs: readonly DeviceJobs[];
  migDevices: readonly MigDevice[];
  problems: readonly AttributionProblem[];
  /** The configured cluster name, or null. */
  cluster: string | null;
}

export interface Attributed {
  samples: GpuSample[];
  /** Every problem of the round, those of the sources and those found here, each once. */
  problems: AttributionProblem[];
}

/** A pod container or Slurm job that the kubelet or a prolog says holds a device of this host. */
interface Holder {
  place: DevicePlace;
  deviceUuid: string;
  pod?: PodDevices;
  job?: SlurmJob;
}

const UUID_SHAPED = /^(GPU|MIG)-/;

/**
 * Fills each sample's `workloads`, each process's `workload_id` and `attribution_problems` from
 * the round's facts. A process is placed by its cgroup (a pod container or a Slurm job), else by
 * its environment (a Slurm job). A pod container gets its names (and the k8s:<namespace>/<pod>/<container>
 * id) when the kubelet says it holds the device and no other pod container runs there, so the
 * match cannot be wrong; otherwise it keeps the id its cgroup gives. A pod or job that holds a
 * device with no process on it is a workload with no pids.
 */
export function attributeSamples(samples: readonly GpuSample[], facts: HostFacts): Attributed {
  const places = devicePlaces(samples, facts.migDevices);
  const problems = [...facts.problems];
  const holders = [...podHolders(facts.podDevices, places, problems), ...jobHolders(facts.slurmJobs, places, problems)];
  const attributed = samples.map((sample) => {
    const workloads = new WorkloadSet(facts.cluster);
    const processes = sample.processes?.map((process) =>
      attributeProcess(sample, process, facts, places, holders, workloads)) ?? null;
    for (const holder of holders.filter((h) => h.place.gpuUuid === sample.gpu_uuid)) workloads.addHolder(holder);
    return {
      ...sample,
      processes,
      workloads: workloads.list(),
      mig_instances: sample.mig_instances.map((instance) => {
        const place = migPlaceOf(places, sample.gpu_uuid, instance.gpu_instance_id);
        return place === undefined ? instance : { ...instance, mig_uuid: place.migUuid, profile: place.profile ?? instance.profile };
      }),
      attribution_problems: problemsOf(sample, problems, places),
    };
  });
  return { samples: attributed, problems };
}

function podHolders(podDevices: readonly PodDevices[], places: ReadonlyMap<string, DevicePlace>, problems: AttributionProblem[]): Holder[] {
  const holders: Holder[] = [];
  for (const pod of podDevices) {
    for (const deviceUuid of pod.deviceIds) {
      const name = `${pod.namespace}/${pod.pod}/${pod.container}`;
      const place = places.get(deviceUuid);
      if (place !== undefined) holders.push({ place, deviceUuid, pod });
      else if (!UUID_SHAPED.test(deviceUuid)) {
        problems.push({ source: 'pod-resources', reason: 'not_a_uuid', message: `pod-resources: ${name} holds ${pod.resourceName} ${quoted(deviceUuid)}, not a GPU or MIG UUID: not attributed` });
      } else {
        problems.push({ source: 'pod-resources', reason: 'unknown_device', message: `pod-resources: ${name} holds ${deviceUuid}, not a GPU or MIG device of this host (or nvidia-smi -L did not name it)` });
      }
    }
  }
  return holders;
}

function jobHolders(slurmJobs: readonly DeviceJobs[], places: ReadonlyMap<string, DevicePlace>, problems: AttributionProblem[]): Holder[] {
  const holders: Holder[] = [];
  for (const device of slurmJobs) {
    const place = places.get(device.deviceUuid);
    if (place === undefined) {
      problems.push({ source: 'slurm-job-map', reason: 'unknown_device', message: `slurm job map ${device.path}: ${device.deviceUuid} is not a GPU or MIG device of this host (or nvidia-smi -L did not name it)` });
      continue;
    }
    for (const job of device.jobs) holders.push({ place, deviceUuid: device.deviceUuid, job });
  }
  return holders;
}

function attributeProcess(
  sample: GpuSample, process: GpuProcess, facts: HostFacts, places: ReadonlyMap<string, DevicePlace>,
  holders: readonly Holder[], workloads: WorkloadSet,
): GpuProcess {
  const found = facts.processes.get(process.pid);
  const slice = process.gpu_instance_id;
  const mapJobs = holders.flatMap((h) => (h.job !== undefined && h.place.gpuUuid === sample.gpu_uuid && h.place.gpuInstanceId === slice ? [h.job] : []));
  let deviceUuid = slice === null ? sample.gpu_uuid : migPlaceOf(places, sample.gpu_uuid, slice)?.migUuid ?? null;
  let workload: Workload | null = null;
  if (found?.cgroup?.kind === 'kubernetes') {
    const { podUid, containerId } = found.cgroup;
    const onSlice = holders.filter((h) => h.place.gpuUuid === sample.gpu_uuid && h.place.gpuInstanceId === slice);
    const holder = soleHolderPod(onSlice, sample, slice, facts.processes);
    if (holder === undefined) {
      workload = workloads.base(`k8s:pod-${podUid}/${containerId.slice(0, 12)}`, 'KUBERNETES_POD', 'cgroup', { pod_uid: podUid, container: containerId });
    } else {
      workload = { ...workloads.pod(holder.pod), pod_uid: podUid };
      deviceUuid = holder.deviceUuid;
    }
  } else if (found?.cgroup?.kind === 'slurm') {
    const { jobId } = found.cgroup;
    const job = withDetails(mapJobs.find((j) => j.jobId === jobId) ?? { jobId, user: null, account: null, partition: null }, found.environJob);
    workload = { ...workloads.job(job), source: 'cgroup' };
  } else if (found?.environJob) {
    const job = jobOfEnviron(found.environJob, mapJobs);
    if (job !== null) workload = { ...workloads.job(job.job), source: job.source };
  }
  if (workload === null) return { ...process, workload_id: null };
  workloads.addProcess({ ...workload, device_uuid: deviceUuid, gpu_instance_id: slice }, process);
  return { ...process, workload_id: workload.workload_id };
}

/**
 * The job of a process that names one in its environment only (no Slurm cgroup). Anyone can set
 * SLURM_JOB_ID, the prolog's job map is written by root: where the map names jobs on this device,
 * the process's own job counts only if it is one of them; else the map's single job wins, and
 * with several the process is left unattributed. The environment decides alone only where the
 * map names none.
 */
function jobOfEnviron(environ: SlurmJob, mapJobs: readonly SlurmJob[]): { job: SlurmJob; source: 'environ' | 'slurm-job-map' } | null {
  if (mapJobs.length === 0) return { job: environ, source: 'environ' };
  const named = mapJobs.find((job) => job.jobId === environ.jobId);
  if (named !== undefined) return { job: withDetails(named, environ), source: 'slurm-job-map' };
  return mapJobs.length === 1 ? { job: mapJobs[0]!, source: 'slurm-job-map' } : null;
}

/** `job` with the user, account and partition it lacks taken from the environment, where that names the same job. */
function withDetails(job: SlurmJob, environ: SlurmJob | null): SlurmJob {
  if (environ?.jobId !== job.jobId) return job;
  return { jobId: job.jobId, user: job.user ?? environ.user, account: job.account ?? environ.account, partition: job.partition ?? environ.partition };
}

/**
 * The pod container the kubelet gave this device to, when the match is unambiguous: exactly one
 * container holds it, and the Kubernetes processes on it all run in one container. The kubelet
 * names containers but not their cgroups, so two of either side could be paired the wrong way round.
 */
function soleHolderPod(
  onSlice: readonly Holder[], sample: GpuSample, slice: number | null, processes: ReadonlyMap<number, ProcessFacts>,
): (Holder & { pod: PodDevices }) | undefined {
  const pods = onSlice.filter((h): h is Holder & { pod: PodDevices } => h.pod !== undefined);
  const names = new Set(pods.map((h) => `${h.pod.namespace}/${h.pod.pod}/${h.pod.container}`));
  const containers = new Set((sample.processes ?? [])
    .filter((p) => p.gpu_instance_id === slice)
    .map((p) => processes.get(p.pid)?.cgroup)
    .flatMap((cgroup) => (cgroup?.kind === 'kubernetes' ? [`${cgroup.podUid}/${cgroup.containerId}`] : [])));
  return names.size === 1 && containers.size === 1 ? pods[0] : undefined;
}

type Details = Partial<Pick<Workload, 'namespace' | 'pod' | 'pod_uid' | 'container' | 'job_id' | 'user' | 'account' | 'partition'>>;

/** One sample's workloads, one per workload and MIG slice, with their processes' pids and memory. */
class WorkloadSet {
  private readonly byKey = new Map<string, Workload>();

  constructor(private readonly cluster: string | null) {}

  /** Job ids and pod names repeat across clusters: the configured cluster name keeps their ids apart. */
  private inCluster(path: string): string {
    return this.cluster === null ? path : `${this.cluster}/${path}`;
  }

  base(workloadId: string, kind: Workload['kind'], source: string, details: Details): Workload {
    return {
      workload_id: workloadId, kind, source, device_uuid: null, gpu_instance_id: null, cluster: this.cluster,
      namespace: null, pod: null, pod_uid: null, container: null, job_id: null, user: null, account: null, partition: null,
      ...details, pids: [], used_memory_mib: null,
    };
  }

  /** Memory is the sum of what its processes' readings say; null while none reads (N/A under WDDM, MIG without privileges). */
  addProcess(workload: Workload, process: GpuProcess): void {
    const existing = this.entry(workload);
    existing.pids.push(process.pid);
    if (process.used_memory_mib !== null) existing.used_memory_mib = (existing.used_memory_mib ?? 0) + process.used_memory_mib;
  }

  pod(pod: PodDevices): Workload {
    return this.base(`k8s:${this.inCluster(`${pod.namespace}/${pod.pod}/${pod.container}`)}`, 'KUBERNETES_POD', 'pod-resources', { namespace: pod.namespace, pod: pod.pod, container: pod.container });
  }

  job(job: SlurmJob): Workload {
    return this.base(`slurm:${this.inCluster(job.jobId)}`, 'SLURM_JOB', 'slurm-job-map', { job_id: job.jobId, user: job.user, account: job.account, partition: job.partition });
  }

  /** A holder merges into the workload its processes made, adding what they did not say (the device, the job's user…). */
  addHolder(holder: Holder): void {
    const workload = holder.pod !== undefined ? this.pod(holder.pod) : this.job(holder.job!);
    const existing = this.entry({ ...workload, device_uuid: holder.deviceUuid, gpu_instance_id: holder.place.gpuInstanceId });
    existing.device_uuid ??= holder.deviceUuid;
    existing.user ??= workload.user;
    existing.account ??= workload.account;
    existing.partition ??= workload.partition;
  }

  private entry(workload: Workload): Workload {
    const key = `${workload.workload_id} ${workload.gpu_instance_id ?? ''}`;
    let existing = this.byKey.get(key);
    if (existing === undefined) {
      existing = workload;
      this.byKey.set(key, existing);
    }
    return existing;
  }

  list(): Workload[] {
    return [...this.byKey.values()].sort((a, b) =>
      a.workload_id.localeCompare(b.workload_id) || (a.gpu_instance_id ?? -1) - (b.gpu_instance_id ?? -1));
  }
}

/** A sample shows the problems of its processes, of its devices, and those of the whole host. */
function problemsOf(sample: GpuSample, problems: readonly AttributionProblem[], places: ReadonlyMap<string, DevicePlace>): string[] {
  const pids = new Set((sample.processes ?? []).map((process) => process.pid));
  const mine = problems.filter((problem) => {
    if (problem.pid !== undefined) return pids.has(problem.pid);
    if (problem.deviceUuid !== undefined) {
      const place = places.get(problem.deviceUuid);
      if (place !== undefined) return place.gpuUuid === sample.gpu_uuid;
    }
    return true;
  });
  return [...new Set(mine.map((problem) => problem.message))];
}

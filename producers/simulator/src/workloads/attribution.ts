import type { GpuProcess, MigInstance, Workload } from '@gpumon/schemas/types.generated';
import type { Lane } from './lanes.js';
import type { MigSlice } from './mig.js';
import type { Tenant } from './tenant.js';

/** What the GPU's own model says at a reading: whether a job's process runs on it, and its memory. */
export interface GpuActivity {
  running: boolean;
  memoryUsedMib: number;
  /** The running job's pid (the one Xid lines name). */
  pid: number;
}

/** The attribution fields of one reading. */
export interface Attribution {
  processes: GpuProcess[];
  workloads: Workload[];
  migInstances: MigInstance[];
}

/** Names of processes run by someone outside the schedulers. */
const STRAY_PROCESS_NAMES = ['python3', '/usr/bin/python3', 'gpu-burn'] as const;

/**
 * Who is on one GPU at each reading. The tenants come from the lanes (pure functions of the seed
 * and the time); whether they run a process comes from the GPU's own busy/idle churn, so the
 * readings stay exactly those of the GPU without workloads: a held GPU that is busy runs its
 * tenants' processes, a held one that is idle is allocated but unused, and a busy one that nobody
 * holds runs a process outside the schedulers (workload_id null).
 */
export class GpuWorkloads {
  readonly migMode: boolean;
  private readonly held: Array<Tenant | null>;

  constructor(private readonly lanes: readonly Lane[], private readonly memoryTotalMib: number) {
    this.migMode = lanes.some((lane) => lane.slice !== null);
    this.held = lanes.map(() => null);
  }

  /** The attribution at `timeMs`; `activity` null: the GPU has failed, its job is gone and the scheduler drains it. */
  at(timeMs: number, activity: GpuActivity | null): Attribution {
    const processes: GpuProcess[] = [];
    const workloads: Workload[] = [];
    const sliceMemory = this.migMode ? this.lanes.map(() => 0) : null;
    if (activity === null) return { processes, workloads, migInstances: this.migInstances(sliceMemory) };

    let weights = 0;
    for (let i = 0; i < this.lanes.length; i++) {
      const tenant = (this.lanes[i] as Lane).cursor.at(timeMs).tenant;
      this.held[i] = tenant;
      if (tenant !== null) weights += tenant.memoryWeight;
    }
    for (let i = 0; i < this.lanes.length; i++) {
      const tenant = this.held[i] as Tenant | null;
      if (tenant === null) continue;
      const lane = this.lanes[i] as Lane;
      if (!activity.running) {
        workloads.push(workloadOf(tenant, lane, [], null));
        continue;
      }
      const pid = processId(activity.pid, processes.length);
      const memory = lane.slice === null
        ? Math.floor((activity.memoryUsedMib * tenant.memoryWeight) / weights)
        : this.sliceShare(activity.memoryUsedMib, i);
      processes.push(processOf(pid, tenant.processName, memory, lane, tenant.identity.workload_id));
      workloads.push(workloadOf(tenant, lane, [pid], memory));
      if (sliceMemory !== null) sliceMemory[i] = memory;
    }
    if (activity.running && weights === 0) {
      // A MIG GPU only runs processes in a slice: the stray one takes the first.
      const memory = this.migMode ? this.sliceShare(activity.memoryUsedMib, 0) : activity.memoryUsedMib;
      const name = STRAY_PROCESS_NAMES[activity.pid % STRAY_PROCESS_NAMES.length] as string;
      processes.push(processOf(activity.pid, name, memory, this.lanes[0] as Lane, null));
      if (sliceMemory !== null) sliceMemory[0] = memory;
    }
    return { processes, workloads, migInstances: this.migInstances(sliceMemory) };
  }

  /** A slice's processes use the same share of its memory as the GPU's model uses of the whole board. */
  private sliceShare(memoryUsedMib: number, lane: number): number {
    const slice = (this.lanes[lane] as Lane).slice;
    return slice === null ? memoryUsedMib : Math.floor((memoryUsedMib * slice.memoryTotalMib) / this.memoryTotalMib);
  }

  private migInstances(sliceMemory: number[] | null): MigInstance[] {
    if (sliceMemory === null) return [];
    return this.lanes.map((lane, i) => {
      // In MIG mode every lane is a slice.
      const slice = lane.slice as MigSlice;
      return {
        gpu_instance_id: slice.gpuInstanceId, compute_instance_id: 0, mig_uuid: lane.deviceUuid,
        profile: slice.profile, memory_total_mib: slice.memoryTotalMib, memory_used_mib: sliceMemory[i] as number,
      };
    });
  }
}

/** The first process is the job the GPU's model runs (its pid is the one Xid lines name); a second tenant's gets another. */
function processId(jobPid: number, nth: number): number {
  return nth === 0 ? jobPid : 1000 + ((jobPid + nth * 7919) % 4_000_000);
}

function processOf(pid: number, name: string, memory: number, lane: Lane, workloadId: string | null): GpuProcess {
  const instance = lane.slice?.gpuInstanceId ?? null;
  return {
    pid, type: 'C', name, used_memory_mib: memory,
    gpu_instance_id: instance, compute_instance_id: instance === null ? null : 0, workload_id: workloadId,
  };
}

/** Written out field by field: a spread of the identity costs ten times as much per reading. */
function workloadOf(tenant: Tenant, lane: Lane, pids: number[], memory: number | null): Workload {
  const id = tenant.identity;
  return {
    workload_id: id.workload_id, kind: id.kind, source: id.source,
    device_uuid: lane.deviceUuid, gpu_instance_id: lane.slice?.gpuInstanceId ?? null,
    cluster: id.cluster, namespace: id.namespace, pod: id.pod, pod_uid: id.pod_uid, container: id.container,
    job_id: id.job_id, user: id.user, account: id.account, partition: id.partition,
    pids, used_memory_mib: memory,
  };
}

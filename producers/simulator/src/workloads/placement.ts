import type { GpuModel } from '../gpu-models.js';
import { createRandom, seedFrom } from '../random.js';
import { migLayout, supportsMig, type MigSlice } from './mig.js';

/** Hosts 1–4, 5–8, … share a rack; a Slurm job spans hosts of one rack only. */
export const HOSTS_PER_RACK = 4;
/** Share of hosts in the Slurm cluster; the others are Kubernetes nodes. */
const SLURM_SHARE = 0.45;
/** Share of Kubernetes nodes with MIG-capable boards that are cut into MIG slices. */
const MIG_SHARE = 0.35;
/** Share of Kubernetes nodes whose GPUs are time-sliced between two pods. */
const TIME_SLICED_SHARE = 0.25;

/** What fixes every workload of the fleet, beside each host's placement. */
export interface FleetPlan {
  seed: number;
  hostPrefix: string;
  hosts: number;
  gpusPerHost: number;
}

/** Which scheduler a host belongs to, and how a Kubernetes node shares its GPUs. */
export interface HostPlacement {
  /** 1-based, as in the host name. */
  number: number;
  hostname: string;
  model: GpuModel;
  scheduler: 'kubernetes' | 'slurm';
  /** exclusive: each GPU is one pod's or job's; time-sliced: two pods per GPU; mig: one pod per MIG slice. */
  sharing: 'exclusive' | 'time-sliced' | 'mig';
  /** The MIG layout of every GPU of the host; empty unless `sharing` is mig. */
  migSlices: MigSlice[];
}

/** The clusters a fleet's hosts belong to, named after its host prefix (sim-k8s, sim-slurm). */
export function clusterName(plan: FleetPlan, scheduler: HostPlacement['scheduler']): string {
  return `${plan.hostPrefix}-${scheduler === 'slurm' ? 'slurm' : 'k8s'}`;
}

/** A host's placement, drawn from the seed and its name alone. */
export function placeHost(plan: FleetPlan, number: number, hostname: string, model: GpuModel): HostPlacement {
  const random = createRandom(seedFrom(plan.seed, hostname, 'workloads'));
  const scheduler = random() < SLURM_SHARE ? 'slurm' : 'kubernetes';
  const u = random();
  const sharing = scheduler === 'slurm' ? 'exclusive'
    : supportsMig(model) && u < MIG_SHARE ? 'mig'
    : u >= 1 - TIME_SLICED_SHARE ? 'time-sliced' : 'exclusive';
  const layoutU = random();
  return { number, hostname, model, scheduler, sharing, migSlices: sharing === 'mig' ? migLayout(model, layoutU) : [] };
}

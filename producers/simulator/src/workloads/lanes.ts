import { createRandom, seedFrom } from '../random.js';
import { blockAt, cutIntoBlocks } from './blocks.js';
import { drawPod } from './kubernetes.js';
import type { MigSlice } from './mig.js';
import { clusterName, HOSTS_PER_RACK, type FleetPlan, type HostPlacement } from './placement.js';
import { drawSlurmJob } from './slurm.js';
import type { Tenant } from './tenant.js';
import { epochPhase, LaneCursor, periodsWithin, type DrawTenancy } from './timeline.js';

const MINUTE_MS = 60_000;
/** Mean time a GPU or slice waits between two tenants: clusters run mostly full. */
const SLURM_MEAN_FREE_MS = 15 * MINUTE_MS;
const K8S_MEAN_FREE_MS = 30 * MINUTE_MS;
/** Chance that an epoch of a Slurm group has a job spanning several of its hosts. */
const SLURM_SPAN_SHARE = 0.6;
/** Lanes per GPU that StatefulSet ordinals leave room for (a MIG layout has at most 7 slices). */
const LANES_PER_GPU = 8;

/** Something a tenant can hold: a whole GPU (as one of the blocks of its group) or a MIG slice. */
export interface Lane {
  readonly cursor: LaneCursor<Tenant>;
  /** The MIG slice this lane is; null for a whole GPU. */
  readonly slice: MigSlice | null;
  /** The GPU's UUID, or the slice's MIG UUID. */
  readonly deviceUuid: string;
}

/** Where a block of GPUs sits in the fleet, which a tenant's names and ids come from. */
interface BlockPlace {
  firstFleetGpu: number;
  size: number;
  spansHosts: boolean;
}

/** The rack of a host: the placements of the hosts that share it, from the fleet's placements in host order. */
export function rackOf(placements: readonly HostPlacement[], host: HostPlacement): HostPlacement[] {
  const first = Math.floor((host.number - 1) / HOSTS_PER_RACK) * HOSTS_PER_RACK;
  return placements.slice(first, first + HOSTS_PER_RACK);
}

/**
 * The lanes of GPU `index` of `host`: a Slurm GPU is one of the blocks its rack's Slurm hosts of
 * the same board are cut into (some span hosts), a Kubernetes GPU one of the blocks its node is cut
 * into, or two time-sliced lanes, or one lane per MIG slice. Everything comes from the seed, the
 * rack and the GPU's place, so any process can compute it alone.
 */
export function lanesOfGpu(plan: FleetPlan, rack: readonly HostPlacement[], host: HostPlacement, index: number, gpuUuid: string): Lane[] {
  const cluster = clusterName(plan, host.scheduler);
  const fleetGpu = (host.number - 1) * plan.gpusPerHost + index;
  if (host.scheduler === 'slurm') {
    const group = rack.filter((p) => p.scheduler === 'slurm' && p.model === host.model);
    const cursor = blockCursor(plan, `slurm/${group[0]?.number}/${host.model.productName}`, group, group.indexOf(host) * plan.gpusPerHost + index,
      SLURM_SPAN_SHARE, SLURM_MEAN_FREE_MS, (block) => (random, startMs) => drawSlurmJob(random, startMs, { cluster, fleetGpus: plan.hosts * plan.gpusPerHost, ...block }));
    return [{ cursor, slice: null, deviceUuid: gpuUuid }];
  }
  const pods = (firstFleetGpu: number, lane: number, gpus: number): DrawTenancy<Tenant> =>
    (random, startMs) => drawPod(random, startMs, { cluster, gpus, ordinal: firstFleetGpu * LANES_PER_GPU + lane });
  if (host.sharing === 'mig') {
    return host.migSlices.map((slice, lane) => ({
      cursor: unitCursor(plan, `k8s/${host.number}/${index}/gi${slice.gpuInstanceId}`, K8S_MEAN_FREE_MS, pods(fleetGpu, lane, 1)),
      slice,
      deviceUuid: migUuid(gpuUuid, slice.gpuInstanceId),
    }));
  }
  if (host.sharing === 'time-sliced') {
    return [0, 1].map((lane) => ({
      cursor: unitCursor(plan, `k8s/${host.number}/${index}/replica${lane}`, K8S_MEAN_FREE_MS, pods(fleetGpu, lane, 1)),
      slice: null,
      deviceUuid: gpuUuid,
    }));
  }
  const cursor = blockCursor(plan, `k8s/${host.number}`, [host], index, 0, K8S_MEAN_FREE_MS, (block) => pods(block.firstFleetGpu, 0, block.size));
  return [{ cursor, slice: null, deviceUuid: gpuUuid }];
}

/**
 * A GPU's lane in a group of hosts cut into blocks anew every epoch: every GPU of the group cuts
 * the same blocks from the same stream, and the tenants of its block from the block's stream.
 */
function blockCursor(
  plan: FleetPlan, groupKey: string, group: readonly HostPlacement[], position: number, spanShare: number, meanFreeMs: number,
  tenancies: (block: BlockPlace) => DrawTenancy<Tenant>,
): LaneCursor<Tenant> {
  const perHost = plan.gpusPerHost;
  const phase = epochPhase(createRandom(seedFrom(plan.seed, plan.hostPrefix, groupKey, 'workloads'))());
  return new LaneCursor(phase, (epoch, startMs, endMs) => {
    const blocks = cutIntoBlocks(createRandom(seedFrom(plan.seed, plan.hostPrefix, groupKey, epoch, 'workloads')), group.length, perHost, spanShare);
    const block = blockAt(blocks, position);
    const firstHost = group[Math.floor(block.first / perHost)] as HostPlacement;
    const place = { firstFleetGpu: (firstHost.number - 1) * perHost + (block.first % perHost), size: block.size, spansHosts: block.size > perHost };
    const random = createRandom(seedFrom(plan.seed, plan.hostPrefix, groupKey, epoch, block.first, 'workloads'));
    return periodsWithin(random, startMs, endMs, meanFreeMs, tenancies(place));
  });
}

/** A lane of its own (a time-sliced replica or a MIG slice). */
function unitCursor(plan: FleetPlan, unitKey: string, meanFreeMs: number, draw: DrawTenancy<Tenant>): LaneCursor<Tenant> {
  const phase = epochPhase(createRandom(seedFrom(plan.seed, plan.hostPrefix, unitKey, 'workloads'))());
  return new LaneCursor(phase, (epoch, startMs, endMs) =>
    periodsWithin(createRandom(seedFrom(plan.seed, plan.hostPrefix, unitKey, epoch, 'workloads')), startMs, endMs, meanFreeMs, draw));
}

/** A MIG device UUID in the driver's format (MIG-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), fixed by the GPU and the instance. */
function migUuid(gpuUuid: string, gpuInstanceId: number): string {
  const random = createRandom(seedFrom(gpuUuid, gpuInstanceId, 'workloads'));
  let hex = '';
  for (let i = 0; i < 4; i++) hex += Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0');
  return `MIG-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

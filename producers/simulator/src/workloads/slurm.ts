import { exponential } from '../random.js';
import type { Tenancy } from './timeline.js';
import { pick, type Tenant } from './tenant.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Job ids count minutes from here, so that they grow with the jobs' start times. */
const JOB_ID_EPOCH_MS = Date.UTC(2020, 0, 1);

/** Accounts of a university-style cluster, their users and the programs they run on GPUs. */
const ACCOUNTS = [
  { account: 'physics', users: ['amartin', 'bkowalski', 'cnakamura'], programs: ['lmp', 'python3'] },
  { account: 'chemistry', users: ['dokafor', 'esilva', 'fwagner'], programs: ['gmx_mpi', 'pw.x', 'python3'] },
  { account: 'ml-research', users: ['gchen', 'hpatel', 'iyamamoto', 'jmueller'], programs: ['python3', 'python'] },
  { account: 'bio', users: ['klopez', 'lnguyen'], programs: ['namd3', 'python3'] },
] as const;

/** Where a Slurm job of a block runs, which fixes its job id. */
export interface SlurmBlock {
  cluster: string;
  /** Index in the whole fleet (host after host) of the block's first GPU. */
  firstFleetGpu: number;
  fleetGpus: number;
  size: number;
  spansHosts: boolean;
}

/**
 * A Slurm job on a block: account, user and partition from small pools, a run time by partition
 * (debug up to 30 min, gpu about 3 h up to 8 h, gpu-long 6 to 24 h). The job id is the start
 * minute times the fleet's GPUs plus the block's first GPU: it grows with the start time, and no
 * two jobs share it, since a block's jobs start on different minutes and two blocks at one time
 * never share a first GPU.
 */
export function drawSlurmJob(random: () => number, startMs: number, block: SlurmBlock): Tenancy<Tenant> {
  const { account, users, programs } = pick(random, ACCOUNTS);
  const user = pick(random, users);
  const partition = block.size <= 2 && random() < 0.25 ? 'debug' : random() < (block.spansHosts ? 0.6 : 0.25) ? 'gpu-long' : 'gpu';
  const durationMs = partition === 'debug' ? (5 + random() * 25) * MINUTE_MS
    : partition === 'gpu-long' ? (6 + random() * 18) * HOUR_MS
    : Math.min(8 * HOUR_MS, Math.max(10 * MINUTE_MS, exponential(random, 3 * HOUR_MS)));
  const jobId = String(Math.floor((startMs - JOB_ID_EPOCH_MS) / MINUTE_MS) * block.fleetGpus + block.firstFleetGpu);
  return {
    durationMs,
    tenant: {
      identity: {
        workload_id: `slurm:${block.cluster}/${jobId}`, kind: 'SLURM_JOB', source: 'simulator', cluster: block.cluster,
        namespace: null, pod: null, pod_uid: null, container: null, job_id: jobId, user, account, partition,
      },
      processName: pick(random, programs),
      memoryWeight: 1,
    },
  };
}

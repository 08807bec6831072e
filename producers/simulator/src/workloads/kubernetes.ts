import { exponential } from '../random.js';
import type { Tenancy } from './timeline.js';
import { pick, type Tenant } from './tenant.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** The characters Kubernetes draws generated name suffixes from (no vowels, no look-alikes). */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

interface App {
  namespace: string;
  name: string;
  controller: 'deployment' | 'statefulset' | 'job';
  container: string;
  process: string;
  meanHours: number;
  /** Whether its pods ask for several GPUs of a node. */
  multiGpu: boolean;
}

const APPS: readonly App[] = [
  { namespace: 'team-vision', name: 'trainer', controller: 'deployment', container: 'trainer', process: 'python3', meanHours: 8, multiGpu: true },
  { namespace: 'team-vision', name: 'detector-serve', controller: 'deployment', container: 'server', process: 'tritonserver', meanHours: 12, multiGpu: false },
  { namespace: 'team-nlp', name: 'llm-serve', controller: 'statefulset', container: 'server', process: 'python3', meanHours: 16, multiGpu: true },
  { namespace: 'team-nlp', name: 'finetune', controller: 'job', container: 'trainer', process: 'python3', meanHours: 6, multiGpu: true },
  { namespace: 'team-recsys', name: 'ranker-train', controller: 'job', container: 'trainer', process: 'python3', meanHours: 4, multiGpu: true },
  { namespace: 'team-recsys', name: 'embedder', controller: 'deployment', container: 'worker', process: 'python3', meanHours: 10, multiGpu: false },
  { namespace: 'research', name: 'notebook', controller: 'statefulset', container: 'notebook', process: 'python3', meanHours: 5, multiGpu: false },
  { namespace: 'batch-inference', name: 'batch-infer', controller: 'job', container: 'worker', process: 'python3', meanHours: 2, multiGpu: false },
];
const MULTI_GPU_APPS = APPS.filter((a) => a.multiGpu);

/** Where a pod runs: its cluster, how many GPUs it asks for, and its lane's number in the fleet. */
export interface PodPlace {
  cluster: string;
  gpus: number;
  /** Unique per lane in the fleet: the ordinal of StatefulSet pods, so no two live pods share a name. */
  ordinal: number;
}

/**
 * A pod of one of a few teams' apps, named as its controller names it (Deployment
 * `trainer-7f9c6d5b8-x2k4q`, StatefulSet `llm-serve-3`, Job `finetune-x2k4q`), for about its app's
 * mean run time; pods that ask for several GPUs are trainers or servers of large models.
 */
export function drawPod(random: () => number, startMs: number, place: PodPlace): Tenancy<Tenant> {
  const app = pick(random, place.gpus > 1 ? MULTI_GPU_APPS : APPS);
  const pod = app.controller === 'deployment' ? `${app.name}-${generated(random, 9)}-${generated(random, 5)}`
    : app.controller === 'statefulset' ? `${app.name}-${place.ordinal}`
    : `${app.name}-${generated(random, 5)}`;
  const podUid = `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-${'89ab'[Math.floor(random() * 4)]}${hex(random, 3)}-${hex(random, 12)}`;
  return {
    durationMs: Math.max(10 * MINUTE_MS, exponential(random, app.meanHours * HOUR_MS)),
    tenant: {
      identity: {
        workload_id: `k8s:${place.cluster}/${app.namespace}/${pod}/${app.container}`, kind: 'KUBERNETES_POD', source: 'simulator', cluster: place.cluster,
        namespace: app.namespace, pod, pod_uid: podUid, container: app.container, job_id: null, user: null, account: null, partition: null,
      },
      processName: app.process,
      memoryWeight: 0.5 + random(),
    },
  };
}

function generated(random: () => number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += NAME_ALPHABET[Math.floor(random() * NAME_ALPHABET.length)];
  return text;
}

function hex(random: () => number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += Math.floor(random() * 16).toString(16);
  return text;
}

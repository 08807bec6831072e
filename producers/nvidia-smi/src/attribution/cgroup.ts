/** What a process's cgroup path says it belongs to. */
export type CgroupOwner =
  | { kind: 'kubernetes'; podUid: string; containerId: string }
  | { kind: 'slurm'; jobId: string };

/** A pod's UID as cgroupfs (dashes) and systemd (underscores, as `-` separates slice levels) drivers write it. */
const POD_SEGMENT = /(?:^pod|-pod)([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;
/**
 * A container's cgroup: the bare id (cgroupfs driver: containerd, CRI-O, Docker) or a systemd scope
 * (`cri-containerd-<id>.scope`, `crio-<id>.scope`, `docker-<id>.scope`). `crio-conmon-<id>.scope`
 * holds CRI-O's monitor, not the container, and does not match.
 */
const CONTAINER_SEGMENT = /^(?:cri-containerd-|crio-|docker-)?([0-9a-f]{64})(?:\.scope)?$/;
/**
 * Slurm's task/cgroup plugin, from the root of the hierarchy: `/slurm[_<node>]/uid_<uid>/job_<id>/step_<step>/…`
 * on cgroup v1, `/system.slice/[<node>_]slurmstepd.scope/job_<id>/step_<step>/…` on v2. Anchored:
 * a user may create cgroups of any name below their own delegated ones (`/user.slice/…/slurm_x/uid_0/job_4242`),
 * never at these places, which only root can write.
 */
const SLURM_JOB = /^\/(?:slurm(?:_[^/]+)?\/uid_\d+|system\.slice\/[^/]*slurmstepd\.scope)\/job_(\d+)(?:\/|$)/;
/** The kubelet's QoS level between `kubepods` and the pod (none for a guaranteed pod). */
const QOS_SEGMENT = /^(?:kubepods-)?(?:burstable|besteffort)(?:\.slice)?$/;
/** A kind node's cgroup (Kubernetes inside a Docker container), above its `kubepods`. */
const NODE_CONTAINER = /^\/docker\/[0-9a-f]{64}(?=\/)/;

/**
 * The pod container or Slurm job in `/proc/<pid>/cgroup` (cgroup v1: one line per hierarchy; v2:
 * `0::<path>`); null for a process outside both (a desktop session, a plain Docker container, a
 * system service). The first line naming one decides: on v1 every hierarchy names the same one.
 */
export function parseCgroup(text: string): CgroupOwner | null {
  for (const line of text.split('\n')) {
    // hierarchy-id:controllers:path; the path itself may hold colons.
    const path = line.split(':').slice(2).join(':');
    if (path === '') continue;
    const owner = kubernetesContainer(path) ?? slurmJob(path);
    if (owner !== null) return owner;
  }
  return null;
}

/**
 * The kubelet's hierarchy from the root (`/kubepods/…`, `/kubepods.slice/…`, also nested as in
 * kind's `/docker/<node>/kubepods/…`): `kubepods`, its QoS level if any, the pod, then the
 * container, each at its own depth, so a cgroup someone named after them elsewhere does not match.
 * A cgroup at the pod level only (the pod's own slice) names no container and does not match;
 * cgroups nested inside the container belong to it.
 */
function kubernetesContainer(path: string): CgroupOwner | null {
  const segments = path.replace(NODE_CONTAINER, '').split('/');
  if (segments[0] !== '' || !/^kubepods(\.slice)?$/.test(segments[1] ?? '')) return null;
  let at = 2;
  if (QOS_SEGMENT.test(segments[at] ?? '')) at++;
  const pod = POD_SEGMENT.exec(segments[at] ?? '');
  const container = CONTAINER_SEGMENT.exec(segments[at + 1] ?? '');
  if (pod === null || container === null) return null;
  return { kind: 'kubernetes', podUid: pod[1]!.replaceAll('_', '-'), containerId: container[1]! };
}

function slurmJob(path: string): CgroupOwner | null {
  const match = SLURM_JOB.exec(path);
  return match === null ? null : { kind: 'slurm', jobId: match[1]! };
}

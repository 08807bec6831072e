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
 * Slurm's task/cgroup plugin: `/slurm[_<node>]/uid_<uid>/job_<id>/step_<step>/…` on cgroup v1,
 * `/system.slice/[<node>_]slurmstepd.scope/job_<id>/step_<step>/…` on v2.
 */
const SLURM_JOB = /(?:^|\/)(?:slurm(?:_[^/]+)?\/uid_\d+|[^/]*slurmstepd\.scope)\/job_(\d+)(?:\/|$)/;

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
 * Below a `kubepods` level (`/kubepods/…`, `kubepods.slice/…`, also nested as in kind's
 * `/docker/<node>/kubepods/…`): the pod level, then the container level; a cgroup at the pod level
 * only (the pod's own slice) names no container and does not match.
 */
function kubernetesContainer(path: string): CgroupOwner | null {
  const segments = path.split('/');
  const kubepods = segments.findIndex((segment) => /^kubepods(\.slice)?$/.test(segment));
  if (kubepods < 0) return null;
  const podAt = segments.findIndex((segment, at) => at > kubepods && POD_SEGMENT.test(segment));
  if (podAt < 0) return null;
  const podUid = POD_SEGMENT.exec(segments[podAt]!)![1]!.replaceAll('_', '-');
  for (const segment of segments.slice(podAt + 1)) {
    const container = CONTAINER_SEGMENT.exec(segment);
    if (container !== null) return { kind: 'kubernetes', podUid, containerId: container[1]! };
  }
  return null;
}

function slurmJob(path: string): CgroupOwner | null {
  const match = SLURM_JOB.exec(path);
  return match === null ? null : { kind: 'slurm', jobId: match[1]! };
}

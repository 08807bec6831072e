import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCgroup } from './cgroup.js';

const PROC = new URL('../../testdata/attribution/proc/', import.meta.url);
const UID = '7c9e1f2a-3b4d-4e5f-8a6b-1c2d3e4f5a6b';
const CID = '3f9a2c1b7d4e8f6a0b5c9d2e1f7a3b8c4d6e0f9a1b2c3d4e5f6a7b8c9d0e1f2a';
const pod = (podUid: string, containerId: string) => ({ kind: 'kubernetes', podUid, containerId });
const job = (jobId: string) => ({ kind: 'slurm', jobId });

describe('parseCgroup', () => {
  it.each([
    ['containerd, systemd driver, cgroup v2', `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replaceAll('-', '_')}.slice/cri-containerd-${CID}.scope`],
    ['containerd, cgroupfs driver, cgroup v2', `0::/kubepods/burstable/pod${UID}/${CID}`],
    ['a guaranteed pod (no QoS level), cgroupfs driver', `0::/kubepods/pod${UID}/${CID}`],
    ['a guaranteed pod, systemd driver', `0::/kubepods.slice/kubepods-pod${UID.replaceAll('-', '_')}.slice/cri-containerd-${CID}.scope`],
    ['CRI-O, systemd driver', `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID.replaceAll('-', '_')}.slice/crio-${CID}.scope`],
    ['Docker (cri-dockerd), systemd driver', `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID.replaceAll('-', '_')}.slice/docker-${CID}.scope`],
    ['Docker, cgroupfs driver, cgroup v1, every hierarchy', `12:memory:/kubepods/besteffort/pod${UID}/${CID}\n11:devices:/kubepods/besteffort/pod${UID}/${CID}\n1:name=systemd:/kubepods/besteffort/pod${UID}/${CID}`],
    ['a kind node (Kubernetes inside a Docker container)', `11:memory:/docker/${'ab'.repeat(32)}/kubepods/besteffort/pod${UID}/${CID}`],
    ['a container\'s own cgroup named like another pod inside it', `0::/kubepods/besteffort/pod${UID}/${CID}/kubepods/besteffort/pod${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}/${'e'.repeat(64)}`],
    ['a nested cgroup inside the container', `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replaceAll('-', '_')}.slice/cri-containerd-${CID}.scope/init`],
  ])('finds the pod UID and container id: %s', (_, text) => {
    expect(parseCgroup(`${text}\n`)).toEqual(pod(UID, CID));
  });

  it('reads the CRI-O container of the fixture host from a cgroup v1 hybrid file, past the empty v2 line', () => {
    expect(parseCgroup(readFileSync(new URL('5100/cgroup', PROC), 'utf8'))).toEqual(
      pod('1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e', '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d'),
    );
  });

  it.each([
    ['cgroup v1', '4:memory:/slurm/uid_1000/job_123/step_0/task_0', '123'],
    ['cgroup v1, one of several slurmd on the node', '4:memory:/slurm_node07/uid_1000/job_124/step_batch', '124'],
    ['cgroup v2', '0::/system.slice/slurmstepd.scope/job_9001/step_0/user/task_0', '9001'],
    ['cgroup v2, the extern step', '0::/system.slice/slurmstepd.scope/job_9001/step_extern/user/task_special', '9001'],
    ['cgroup v2, one of several slurmd on the node', '0::/system.slice/node07_slurmstepd.scope/job_77/step_interactive/user/task_0', '77'],
    ['a job\'s own cgroup named like another job inside it', '0::/system.slice/slurmstepd.scope/job_9001/step_0/user/task_0/system.slice/slurmstepd.scope/job_4242', '9001'],
  ])('finds the Slurm job id: %s', (_, text, jobId) => {
    expect(parseCgroup(text)).toEqual(job(jobId));
  });

  it.each([
    ['a desktop session', '0::/user.slice/user-1000.slice/session-3.scope'],
    ['a plain Docker container (no pod)', `0::/system.slice/docker-${CID}.scope`],
    ['a plain Docker container, cgroupfs', `12:memory:/docker/${CID}`],
    ['CRI-O\'s container monitor, not the container', `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replaceAll('-', '_')}.slice/crio-conmon-${CID}.scope`],
    ['a pod\'s own level, no container', `0::/kubepods/burstable/pod${UID}`],
    ['slurmstepd itself, not a job', '0::/system.slice/slurmstepd.scope/system'],
    ['the root of a cgroup namespace', '0::/'],
    ['a user\'s delegated cgroup named like a Slurm v1 job', '0::/user.slice/user-1000.slice/user@1000.service/app.slice/slurm_x/uid_0/job_4242'],
    ['a user\'s delegated cgroup named like a Slurm v2 job', '0::/user.slice/user-1000.slice/user@1000.service/system.slice/slurmstepd.scope/job_4242/step_0'],
    ['a user\'s delegated cgroup named like a pod container', `0::/user.slice/user-1000.slice/user@1000.service/kubepods/besteffort/pod${UID}/${CID}`],
    ['a cgroup below a pod\'s container level, named like a container', `0::/kubepods/besteffort/pod${UID}/sandbox/${CID}`],
    ['a pod level below something other than kubepods or its QoS level', `0::/kubepods/custom/pod${UID}/${CID}`],
    ['an empty file', ''],
  ])('names nothing for %s', (_, text) => {
    expect(parseCgroup(text)).toBeNull();
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { GpuSample, Workload } from '@gpumon/schemas/types.generated';
import { parseNvidiaSmiXml } from '../parse.js';
import { attributeSamples, type HostFacts } from './attribute.js';
import { parseNvidiaSmiList } from './mig-devices.js';
import type { PodDevices } from './pod-resources.js';
import type { ProcessFacts } from './proc.js';

const FIXTURE = new URL('../../testdata/attribution/', import.meta.url);
const [H100_A, H100_B, A100_MIG] = parseNvidiaSmiXml(readFileSync(new URL('nvidia-smi.xml', FIXTURE), 'utf8'), { hostname: 'h', time: 0 })
  .samples as [GpuSample, GpuSample, GpuSample];
const MIG_DEVICES = parseNvidiaSmiList(readFileSync(new URL('nvidia-smi-L.txt', FIXTURE), 'utf8'));
const MIG_GI3 = 'MIG-4f6e0d2c-1a3b-5c7d-9e8f-0a1b2c3d4e5f';
const MIG_GI5 = 'MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f';
const MIG_GI6 = 'MIG-e1f2a3b4-c5d6-5e7f-a8b9-c0d1e2f3a4b5';

const POD_A = '7c9e1f2a-3b4d-4e5f-8a6b-1c2d3e4f5a6b';
const CID_A = `3f9a2c1b7d4e${'0'.repeat(52)}`;
const POD_B = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const CID_B = `5d4c3b2a1f0e${'1'.repeat(52)}`;
const inPod = (podUid: string, containerId: string): ProcessFacts => ({ cgroup: { kind: 'kubernetes', podUid, containerId }, environJob: null });
const holds = (namespace: string, pod: string, container: string, ...deviceIds: string[]): PodDevices =>
  ({ namespace, pod, container, resourceName: 'nvidia.com/gpu', deviceIds });

function facts(overrides: Partial<HostFacts>): HostFacts {
  return { processes: new Map(), podDevices: [], slurmJobs: [], migDevices: MIG_DEVICES, problems: [], cluster: null, ...overrides };
}

/** A workload with every field the schema has, null where the test does not say. */
function workload(fields: Partial<Workload> & Pick<Workload, 'workload_id' | 'kind' | 'source'>): Workload {
  return {
    device_uuid: null, gpu_instance_id: null, cluster: null, namespace: null, pod: null, pod_uid: null, container: null,
    job_id: null, user: null, account: null, partition: null, pids: [], used_memory_mib: null, ...fields,
  };
}

describe('attributeSamples', () => {
  it('names a pod container from the kubelet when it alone holds the GPU and alone runs there; memory of its processes summed', () => {
    const { samples } = attributeSamples([H100_A], facts({
      processes: new Map([[485, inPod(POD_A, CID_A)], [490, inPod(POD_A, CID_A)]]),
      podDevices: [holds('ml', 'trainer-0', 'main', H100_A.gpu_uuid)],
    }));
    expect(samples[0]!.workloads).toEqual([workload({
      workload_id: 'k8s:ml/trainer-0/main', kind: 'KUBERNETES_POD', source: 'pod-resources', device_uuid: H100_A.gpu_uuid,
      namespace: 'ml', pod: 'trainer-0', container: 'main', pod_uid: POD_A, pids: [485, 490], used_memory_mib: 3270 + 2048,
    })]);
    expect(samples[0]!.processes!.map((p) => [p.pid, p.workload_id])).toEqual([
      [485, 'k8s:ml/trainer-0/main'], [490, 'k8s:ml/trainer-0/main'], [4242, null], [4300, null],
    ]);
  });

  it('keeps the cgroup\'s id without the kubelet, and where two containers run on a GPU one container holds', () => {
    const processes = new Map([[485, inPod(POD_A, CID_A)], [490, inPod(POD_B, CID_B)]]);
    const cgroupOnly = [
      workload({ workload_id: `k8s:pod-${POD_B}/5d4c3b2a1f0e`, kind: 'KUBERNETES_POD', source: 'cgroup', device_uuid: H100_A.gpu_uuid, pod_uid: POD_B, container: CID_B, pids: [490], used_memory_mib: 2048 }),
      workload({ workload_id: `k8s:pod-${POD_A}/3f9a2c1b7d4e`, kind: 'KUBERNETES_POD', source: 'cgroup', device_uuid: H100_A.gpu_uuid, pod_uid: POD_A, container: CID_A, pids: [485], used_memory_mib: 3270 }),
    ];
    expect(attributeSamples([H100_A], facts({ processes })).samples[0]!.workloads).toEqual(cgroupOnly);
    expect(attributeSamples([H100_A], facts({ processes, podDevices: [holds('ml', 'trainer-0', 'main', H100_A.gpu_uuid)] })).samples[0]!.workloads).toEqual([
      workload({ workload_id: 'k8s:ml/trainer-0/main', kind: 'KUBERNETES_POD', source: 'pod-resources', device_uuid: H100_A.gpu_uuid, namespace: 'ml', pod: 'trainer-0', container: 'main' }),
      ...cgroupOnly,
    ]);
  });

  it('places Slurm jobs on MIG slices by cgroup or environment, details from either, the prolog\'s map or both; cluster in the id', () => {
    const { samples } = attributeSamples([A100_MIG], facts({
      cluster: 'hpc-east',
      processes: new Map<number, ProcessFacts>([
        [7001, { cgroup: { kind: 'slurm', jobId: '9001' }, environJob: null }],
        [7100, { cgroup: null, environJob: { jobId: '9002', user: 'bob', account: 'chem', partition: null } }],
      ]),
      slurmJobs: [
        { path: `/m/${MIG_GI3}`, deviceUuid: MIG_GI3, jobs: [{ jobId: '9001', user: 'alice', account: 'physics', partition: 'gpu' }] },
        { path: `/m/${MIG_GI5}`, deviceUuid: MIG_GI5, jobs: [{ jobId: '9002', user: null, account: null, partition: 'gpu-short' }] },
      ],
    }));
    const slurm = { kind: 'SLURM_JOB' as const, cluster: 'hpc-east' };
    expect(samples[0]!.workloads).toEqual([
      workload({ ...slurm, workload_id: 'slurm:hpc-east/9001', source: 'cgroup', device_uuid: MIG_GI3, gpu_instance_id: 3, job_id: '9001', user: 'alice', account: 'physics', partition: 'gpu', pids: [7001], used_memory_mib: 8000 }),
      workload({ ...slurm, workload_id: 'slurm:hpc-east/9002', source: 'slurm-job-map', device_uuid: MIG_GI5, gpu_instance_id: 5, job_id: '9002', user: 'bob', account: 'chem', partition: 'gpu-short', pids: [7100], used_memory_mib: 3000 }),
    ]);
    expect(samples[0]!.processes!.map((p) => p.workload_id)).toEqual(['slurm:hpc-east/9001', null, 'slurm:hpc-east/9002']);
  });

  it('lets the root-written job map win over a process\'s own environment, which decides only where the map names no job', () => {
    const job = (jobId: string, user: string | null = null) => ({ jobId, user, account: null, partition: null });
    const processes = new Map<number, ProcessFacts>([
      [4242, { cgroup: null, environJob: job('4242', 'mallory') }],
      [4300, { cgroup: null, environJob: job('77', 'mallory') }],
      [485, { cgroup: { kind: 'slurm', jobId: '77' }, environJob: job('77', 'mallory') }],
    ]);
    const onA = (...jobs: ReturnType<typeof job>[]) => [{ path: `/m/${H100_A.gpu_uuid}`, deviceUuid: H100_A.gpu_uuid, jobs }];
    const ids = (slurmJobs: HostFacts['slurmJobs']) =>
      attributeSamples([H100_A], facts({ processes, slurmJobs })).samples[0]!.processes!.map((p) => [p.pid, p.workload_id]);

    const { samples } = attributeSamples([H100_A], facts({ processes, slurmJobs: onA(job('77', 'alice')) }));
    expect(samples[0]!.workloads).toEqual([workload({
      workload_id: 'slurm:77', kind: 'SLURM_JOB', source: 'cgroup', device_uuid: H100_A.gpu_uuid, job_id: '77', user: 'alice', pids: [485, 4242, 4300],
      used_memory_mib: H100_A.processes!.filter((p) => p.pid !== 490).reduce((sum, p) => sum + p.used_memory_mib!, 0),
    })]);
    expect(ids(onA(job('77'), job('78')))).toEqual([[485, 'slurm:77'], [490, null], [4242, null], [4300, 'slurm:77']]);
    expect(ids([])).toEqual([[485, 'slurm:77'], [490, null], [4242, 'slurm:4242'], [4300, 'slurm:77']]);
  });

  it('lists a pod or job that holds a device with nothing running on it, with no pids and no memory', () => {
    const { samples } = attributeSamples([H100_B, A100_MIG], facts({
      podDevices: [{ ...holds('research', 'notebook-7f9c', 'jupyter', MIG_GI6), resourceName: 'nvidia.com/mig-1g.20gb' }],
      slurmJobs: [{ path: `/m/${H100_B.gpu_uuid}`, deviceUuid: H100_B.gpu_uuid, jobs: [{ jobId: '77', user: null, account: null, partition: null }, { jobId: '78', user: null, account: null, partition: null }] }],
    }));
    expect(samples.map((s) => s.workloads)).toEqual([
      [
        workload({ workload_id: 'slurm:77', kind: 'SLURM_JOB', source: 'slurm-job-map', device_uuid: H100_B.gpu_uuid, job_id: '77' }),
        workload({ workload_id: 'slurm:78', kind: 'SLURM_JOB', source: 'slurm-job-map', device_uuid: H100_B.gpu_uuid, job_id: '78' }),
      ],
      [workload({ workload_id: 'k8s:research/notebook-7f9c/jupyter', kind: 'KUBERNETES_POD', source: 'pod-resources', device_uuid: MIG_GI6, gpu_instance_id: 6, namespace: 'research', pod: 'notebook-7f9c', container: 'jupyter' })],
    ]);
  });

  it('gives [] where nothing was found, null memory where no process reads any', () => {
    const noProcesses = { ...H100_B, processes: null, process_count: null };
    const memoryNa = { ...H100_B, processes: H100_B.processes!.map((p) => ({ ...p, used_memory_mib: null })) };
    const { samples } = attributeSamples([noProcesses], facts({}));
    expect(samples[0]).toMatchObject({ processes: null, workloads: [], attribution_problems: [] });
    const na = attributeSamples([memoryNa], facts({ processes: new Map([[5100, inPod(POD_B, CID_B)]]) })).samples[0]!;
    expect(na.workloads).toMatchObject([{ pids: [5100], used_memory_mib: null }]);
  });

  it('names MIG devices and profiles from nvidia-smi -L, in order where it prints no instance ids', () => {
    const { samples } = attributeSamples([A100_MIG], facts({}));
    expect(samples[0]!.mig_instances.map((i) => [i.gpu_instance_id, i.mig_uuid, i.profile])).toEqual([
      [3, MIG_GI3, '1g.20gb'], [4, 'MIG-8a9b0c1d-2e3f-5a4b-8c6d-7e8f9a0b1c2d', '1g.20gb'], [5, MIG_GI5, '1g.20gb'], [6, MIG_GI6, '1g.20gb'],
    ]);
    const legacy = [{ gpuUuid: A100_MIG.gpu_uuid, migUuid: `MIG-${A100_MIG.gpu_uuid}/5/0`, profile: null, gpuInstanceId: 5, computeInstanceId: 0 }];
    expect(attributeSamples([A100_MIG], facts({ migDevices: legacy })).samples[0]!.mig_instances.map((i) => i.mig_uuid))
      .toEqual([null, null, `MIG-${A100_MIG.gpu_uuid}/5/0`, null]);
  });

  it('shows each problem on the sample it concerns: its pid, its GPU or MIG device, else every sample', () => {
    const { samples, problems } = attributeSamples([H100_A, H100_B, A100_MIG], facts({
      problems: [
        { source: 'cgroup', reason: 'exited', message: 'pid 4242: exited before /proc was read', pid: 4242 },
        { source: 'slurm-job-map', reason: 'malformed', message: 'slurm job map /m/MIG-e1f2: no job id in it', deviceUuid: MIG_GI6 },
        { source: 'pod-resources', reason: 'unreachable', message: 'pod-resources /k.sock: no answer in 1000 ms' },
      ],
      podDevices: [holds('gke', 'p', 'c', 'nvidia0'), holds('ml', 'q', 'c', 'GPU-00000000-0000-0000-0000-000000000000')],
      slurmJobs: [{ path: '/m/MIG-ffff', deviceUuid: 'MIG-ffff', jobs: [{ jobId: '1', user: null, account: null, partition: null }] }],
    }));
    const everywhere = [
      'pod-resources /k.sock: no answer in 1000 ms',
      'pod-resources: gke/p/c holds nvidia.com/gpu "nvidia0", not a GPU or MIG UUID: not attributed',
      'pod-resources: ml/q/c holds GPU-00000000-0000-0000-0000-000000000000, not a GPU or MIG device of this host (or nvidia-smi -L did not name it)',
      'slurm job map /m/MIG-ffff: MIG-ffff is not a GPU or MIG device of this host (or nvidia-smi -L did not name it)',
    ];
    expect(samples.map((s) => [...s.attribution_problems].sort())).toEqual([
      ['pid 4242: exited before /proc was read', ...everywhere].sort(),
      everywhere,
      ['slurm job map /m/MIG-e1f2: no job id in it', ...everywhere].sort(),
    ]);
    expect(problems.map((p) => `${p.source}/${p.reason}`)).toEqual([
      'cgroup/exited', 'slurm-job-map/malformed', 'pod-resources/unreachable', 'pod-resources/not_a_uuid', 'pod-resources/unknown_device', 'slurm-job-map/unknown_device',
    ]);
  });
});

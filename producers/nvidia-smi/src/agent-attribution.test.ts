import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuSample, Workload } from '@gpumon/schemas/types.generated';
import { podResourcesListerService } from './attribution/pod-resources.js';

/**
 * The fixture host (testdata/attribution/README.md) through the built CLI, as a user runs it:
 * `gpumon agent --once --output json` with the fake nvidia-smi, a fake /proc, the Slurm job map
 * and a fake kubelet on a unix socket.
 */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../testdata/attribution', import.meta.url));
const FAKE_NVIDIA_SMI = fileURLToPath(new URL('../testdata/bin/nvidia-smi', import.meta.url));

const GPU_A = 'GPU-72afe7aa-2a11-ec75-c9b6-c4fc6a41ab11';
const GPU_B = 'GPU-3c1d2b0e-5f4a-4e8b-9a7c-6d2e1f0a9b8c';
const MIG_GI3 = 'MIG-4f6e0d2c-1a3b-5c7d-9e8f-0a1b2c3d4e5f';
const MIG_GI5 = 'MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f';
const MIG_GI6 = 'MIG-e1f2a3b4-c5d6-5e7f-a8b9-c0d1e2f3a4b5';

/** What the kubelet answers on this host (its pod-resources List), snake_case as on the wire. */
const KUBELET = JSON.parse(readFileSync(join(FIXTURE, 'kubelet.json'), 'utf8')) as unknown;

/**
 * pid 4300 stands for another user's process: its environ is made unreadable. Root reads any file,
 * so a root test run starts the agent as nobody.
 */
const AS_ANOTHER_USER = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];

let host: string;
let kubelet: Server;
let socket: string;

async function agent(...args: string[]): Promise<{ samples: GpuSample[]; log: string }> {
  const [command, ...prefix] = [...AS_ANOTHER_USER, process.execPath];
  const { stdout, stderr } = await promisify(execFile)(command!, [
    ...prefix, join(REPO, 'cli/bin/gpumon.js'), 'agent', '--once', '--output', 'json', '--nvidia-smi', FAKE_NVIDIA_SMI,
    '--hostname', 'fixture-host', '--proc-root', join(host, 'proc'), '--slurm-job-map-dir', join(host, 'slurm-jobs'), ...args,
  ], { env: { ...process.env, FAKE_NVIDIA_SMI_XML: join(host, 'nvidia-smi.xml'), FAKE_NVIDIA_SMI_LIST: join(host, 'nvidia-smi-L.txt') } });
  return { samples: stdout.trim().split('\n').map((line) => JSON.parse(line) as GpuSample), log: stderr };
}

function workload(fields: Partial<Workload> & Pick<Workload, 'workload_id' | 'kind' | 'source'>): Workload {
  return {
    device_uuid: null, gpu_instance_id: null, cluster: null, namespace: null, pod: null, pod_uid: null, container: null,
    job_id: null, user: null, account: null, partition: null, pids: [], used_memory_mib: null, ...fields,
  };
}

beforeAll(async () => {
  host = mkdtempSync(join(tmpdir(), 'gpumon-fixture-host-'));
  cpSync(FIXTURE, host, { recursive: true });
  chmodSync(host, 0o755);
  chmodSync(join(host, 'proc/4300/environ'), 0o000);
  socket = join(host, 'kubelet.sock');
  kubelet = new Server();
  kubelet.addService(podResourcesListerService(), { List: (_: unknown, reply: (error: null, answer: unknown) => void) => reply(null, KUBELET) });
  await new Promise<void>((resolve, reject) =>
    kubelet.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())));
  // The kubelet's socket is root's; here the agent may run as another user.
  chmodSync(socket, 0o777);
});

afterAll(() => {
  kubelet?.forceShutdown();
  rmSync(host, { recursive: true, force: true });
});

describe('gpumon agent --once --output json on the fixture host', () => {
  it('attributes every process it can to a pod container or a Slurm job, and says why for the others', { timeout: 30_000 }, async () => {
    const { samples, log } = await agent('--pod-resources-socket', socket, '--cluster', 'east');
    const [a, b, c] = samples as [GpuSample, GpuSample, GpuSample];
    const pod = { kind: 'KUBERNETES_POD' as const, cluster: 'east' };
    const job = { kind: 'SLURM_JOB' as const, cluster: 'east' };
    const indexFile = `slurm job map ${host}/slurm-jobs/0: named by neither a GPU nor a MIG UUID: not used (indexes change with CUDA_VISIBLE_DEVICES and enumeration order)`;

    expect(a.workloads).toEqual([workload({
      ...pod, workload_id: 'k8s:east/ml/trainer-0/main', source: 'pod-resources', device_uuid: GPU_A, namespace: 'ml', pod: 'trainer-0', container: 'main',
      pod_uid: '7c9e1f2a-3b4d-4e5f-8a6b-1c2d3e4f5a6b', pids: [485, 490], used_memory_mib: 3270 + 2048,
    })]);
    expect(a.processes!.map((p) => [p.pid, p.workload_id])).toEqual([[485, 'k8s:east/ml/trainer-0/main'], [490, 'k8s:east/ml/trainer-0/main'], [4242, null], [4300, null]]);
    expect(a.attribution_problems).toEqual([
      'pid 4242: exited before /proc was read',
      `pid 4300: ${host}/proc/4300/environ: permission denied (readable by root and the process's own user only)`,
      indexFile,
      `slurm job map ${host}/slurm-jobs/${GPU_A}: no job id in it`,
    ]);

    expect(b.workloads).toEqual([workload({
      ...pod, workload_id: 'k8s:east/serving/inference-a/server', source: 'pod-resources', device_uuid: GPU_B, namespace: 'serving', pod: 'inference-a', container: 'server',
      pod_uid: '1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e', pids: [5100], used_memory_mib: 20480,
    })]);
    expect(b.attribution_problems).toEqual([indexFile]);

    expect(c.workloads).toEqual([
      workload({ ...pod, workload_id: 'k8s:east/research/notebook-7f9c/jupyter', source: 'pod-resources', device_uuid: MIG_GI6, gpu_instance_id: 6, namespace: 'research', pod: 'notebook-7f9c', container: 'jupyter' }),
      workload({
        ...pod, workload_id: 'k8s:pod-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/5d4c3b2a1f0e', source: 'cgroup', device_uuid: 'MIG-8a9b0c1d-2e3f-5a4b-8c6d-7e8f9a0b1c2d', gpu_instance_id: 4,
        pod_uid: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', container: '5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c', pids: [5200], used_memory_mib: 4000,
      }),
      workload({ ...job, workload_id: 'slurm:east/9001', source: 'cgroup', device_uuid: MIG_GI3, gpu_instance_id: 3, job_id: '9001', user: 'alice', account: 'physics', partition: 'gpu', pids: [7001], used_memory_mib: 8000 }),
      workload({ ...job, workload_id: 'slurm:east/9002', source: 'environ', device_uuid: MIG_GI5, gpu_instance_id: 5, job_id: '9002', user: 'bob', account: 'chem', partition: 'gpu-short', pids: [7100], used_memory_mib: 3000 }),
    ]);
    expect(c.mig_instances.map((i) => [i.gpu_instance_id, i.mig_uuid, i.profile])).toEqual([
      [3, MIG_GI3, '1g.20gb'], [4, 'MIG-8a9b0c1d-2e3f-5a4b-8c6d-7e8f9a0b1c2d', '1g.20gb'], [5, MIG_GI5, '1g.20gb'], [6, MIG_GI6, '1g.20gb'],
    ]);
    expect(c.attribution_problems).toEqual([indexFile]);

    // Each problem logged once, though two of them show on every sample.
    expect(log.match(/named by neither a GPU nor a MIG UUID/g)).toHaveLength(1);
    expect(log).toMatch(/pid 4242: exited before \/proc was read/);
  });

  it('says on every sample that the configured kubelet socket does not answer, and attributes the rest', { timeout: 30_000 }, async () => {
    const missing = join(host, 'no-kubelet.sock');
    const { samples } = await agent('--pod-resources-socket', missing);
    for (const sample of samples) expect(sample.attribution_problems).toContainEqual(expect.stringMatching(new RegExp(`^pod-resources ${missing}: `)));
    expect(samples[0]!.workloads!.map((w) => w.workload_id)).toEqual(['k8s:pod-7c9e1f2a-3b4d-4e5f-8a6b-1c2d3e4f5a6b/3f9a2c1b7d4e']);
    expect(samples[2]!.workloads!.map((w) => w.workload_id)).toEqual(['k8s:pod-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/5d4c3b2a1f0e', 'slurm:9001', 'slurm:9002']);
  });

  it('lists processes but attributes nothing with --attribution false', { timeout: 30_000 }, async () => {
    const { samples } = await agent('--attribution', 'false', '--pod-resources-socket', socket);
    expect(samples.map((s) => [s.process_count, s.workloads, s.attribution_problems])).toEqual([[4, null, []], [1, null, []], [3, null, []]]);
    expect(samples[2]!.mig_instances.map((i) => i.mig_uuid)).toEqual([null, null, null, null]);
  });
});

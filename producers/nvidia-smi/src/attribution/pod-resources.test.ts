import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GpumonError } from '@gpumon/runtime/errors';
import { listPodDevices, podResourcesListerService } from './pod-resources.js';

const GPU_A = 'GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77';
const GPU_B = 'GPU-0f3a7c1e-8b2d-4e6f-9a1b-2c3d4e5f6a7b';
const GPU_C = 'GPU-9e8d7c6b-5a4f-3e2d-1c0b-a9b8c7d6e5f4';
const MIG_A = 'MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f';

/** A kubelet List answer: one pod with two GPU containers, a MIG slice, a non-GPU device, shared and renamed GPUs. */
const KUBELET_ANSWER = {
  pod_resources: [
    {
      name: 'trainer-0',
      namespace: 'ml',
      containers: [
        {
          name: 'main',
          devices: [
            { resource_name: 'nvidia.com/gpu', device_ids: [GPU_A, GPU_B], topology: { nodes: [{ ID: 0 }] } },
            { resource_name: 'example.com/nic', device_ids: ['0000:3b:00.1'] },
          ],
          cpu_ids: [2, 3],
        },
        { name: 'sidecar', devices: [{ resource_name: 'nvidia.com/gpu', device_ids: [GPU_C] }] },
        { name: 'log-shipper', devices: [] },
      ],
    },
    {
      name: 'notebook-7f9c',
      namespace: 'research',
      containers: [{ name: 'jupyter', devices: [{ resource_name: 'nvidia.com/mig-1g.5gb', device_ids: [MIG_A] }] }],
    },
    {
      name: 'fpga-job',
      namespace: 'hw',
      containers: [{ name: 'run', devices: [{ resource_name: 'xilinx.com/fpga-u250', device_ids: ['fpga0'] }] }],
    },
    {
      name: 'inference-a',
      namespace: 'serving',
      containers: [
        // Time-sliced GPU: one id per replica, two replicas of the same GPU in one container.
        { name: 'server', devices: [{ resource_name: 'nvidia.com/gpu.shared', device_ids: [`${GPU_C}::0`, `${GPU_C}::3`] }] },
      ],
    },
    {
      name: 'renamed',
      namespace: 'serving',
      containers: [{ name: 'server', devices: [{ resource_name: 'acme.com/a100-slice', device_ids: [MIG_A] }] }],
    },
    { name: 'cpu-only', namespace: 'default', containers: [{ name: 'app', devices: [] }] },
  ],
};

let scratch: string;
const grpcServers: Server[] = [];
const netServers: NetServer[] = [];
const heldConnections: Socket[] = [];

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'gpumon-pod-resources-'));
});
afterEach(async () => {
  for (const server of grpcServers.splice(0)) server.forceShutdown();
  for (const connection of heldConnections.splice(0)) connection.destroy();
  await Promise.all(netServers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  rmSync(scratch, { recursive: true, force: true });
});

type Reply = (error: null, answer: unknown) => void;
const answering = (answer: unknown): UntypedServiceImplementation => ({ List: (_call: unknown, reply: Reply) => reply(null, answer) });
const neverAnswering: UntypedServiceImplementation = { List: () => undefined };

/** A grpc-js server on a unix socket, playing the kubelet. */
async function startKubelet(implementation: UntypedServiceImplementation, name = 'kubelet.sock'): Promise<string> {
  const socket = join(scratch, name);
  const server = new Server();
  server.addService(podResourcesListerService(), implementation);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())),
  );
  grpcServers.push(server);
  return socket;
}

/** A listener that accepts connections and never says a word, as a stopped kubelet's socket does. */
async function startSilentListener(): Promise<string> {
  const socket = join(scratch, 'silent.sock');
  const server = createServer((connection) => {
    heldConnections.push(connection);
    connection.resume(); // reads what comes, so it sees the client hang up
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  netServers.push(server);
  return socket;
}

async function failure(promise: Promise<unknown>): Promise<GpumonError> {
  const error = await promise.then(() => undefined, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(GpumonError);
  return error as GpumonError;
}

describe('listPodDevices', () => {
  it('returns the GPU devices of every pod container, leaving other devices out', async () => {
    const socket = await startKubelet(answering(KUBELET_ANSWER));
    expect(await listPodDevices(socket, 2000)).toEqual([
      { namespace: 'ml', pod: 'trainer-0', container: 'main', resourceName: 'nvidia.com/gpu', deviceIds: [GPU_A, GPU_B] },
      { namespace: 'ml', pod: 'trainer-0', container: 'sidecar', resourceName: 'nvidia.com/gpu', deviceIds: [GPU_C] },
      { namespace: 'research', pod: 'notebook-7f9c', container: 'jupyter', resourceName: 'nvidia.com/mig-1g.5gb', deviceIds: [MIG_A] },
      { namespace: 'serving', pod: 'inference-a', container: 'server', resourceName: 'nvidia.com/gpu.shared', deviceIds: [GPU_C] },
      { namespace: 'serving', pod: 'renamed', container: 'server', resourceName: 'acme.com/a100-slice', deviceIds: [MIG_A] },
    ]);
  });

  it('returns [] from a node without pods', async () => {
    const socket = await startKubelet(answering({}));
    expect(await listPodDevices(socket, 2000)).toEqual([]);
  });

  it('gives up on a kubelet that never answers within the timeout', async () => {
    const socket = await startKubelet(neverAnswering);
    const started = Date.now();
    const error = await failure(listPodDevices(socket, 300));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1300);
    expect(error.message).toBe(`pod-resources ${socket}: no answer in 300 ms`);
    expect(error.retriable).toBe(true);
  });

  it('gives up on a socket whose listener never speaks gRPC within the timeout', async () => {
    const socket = await startSilentListener();
    const started = Date.now();
    const error = await failure(listPodDevices(socket, 300));
    expect(Date.now() - started).toBeLessThan(1300);
    expect(error.message).toBe(`pod-resources ${socket}: no answer in 300 ms`);
  });

  it('names a socket that does not exist and the cause', async () => {
    const socket = join(scratch, 'absent', 'kubelet.sock');
    const started = Date.now();
    const error = await failure(listPodDevices(socket, 2000));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.message).toBe(
      `pod-resources ${socket}: no such socket (kubelet not running here, or its pod-resources folder not mounted into the agent)`,
    );
  });

  it('names a path that is not a socket and the cause', async () => {
    const path = join(scratch, 'kubelet.sock');
    writeFileSync(path, '');
    const error = await failure(listPodDevices(path, 2000));
    expect(error.message).toBe(`pod-resources ${path}: connection refused (not a socket, or nothing listening on it)`);
  });

  it.skipIf(process.getuid?.() === 0)('names a socket it may not open and the cause', async () => {
    const socket = await startKubelet(answering({}));
    chmodSync(socket, 0o000);
    const error = await failure(listPodDevices(socket, 2000));
    expect(error.message).toBe(
      `pod-resources ${socket}: permission denied (the agent needs write access to the socket: root, or a group that has it)`,
    );
  });

  it('says when the kubelet does not serve the v1 List call', async () => {
    const socket = await startKubelet({});
    const error = await failure(listPodDevices(socket, 2000));
    expect(error.message).toBe(
      `pod-resources ${socket}: the kubelet does not serve pod-resources v1 List (Kubernetes before 1.20?)`,
    );
  });

  it('leaves no connection open after a call, whatever its outcome', async () => {
    const kubelet = await startKubelet(answering(KUBELET_ANSWER));
    const hung = await startKubelet(neverAnswering, 'hung.sock');
    const silent = await startSilentListener();
    const pipes = () => process.getActiveResourcesInfo().filter((kind) => kind === 'PipeWrap').length;
    const settled = () => new Promise((resolve) => setTimeout(resolve, 100));
    await settled(); // the earlier tests' servers finish closing
    const before = pipes();
    for (let round = 0; round < 10; round += 1) {
      await listPodDevices(kubelet, 2000);
      await failure(listPodDevices(hung, 50));
      await failure(listPodDevices(silent, 50));
      await failure(listPodDevices(join(scratch, 'absent.sock'), 2000));
    }
    await settled();
    expect(pipes()).toBe(before);
  });
});

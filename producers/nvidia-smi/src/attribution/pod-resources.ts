import { connect as connectHttp2, type IncomingHttpHeaders } from 'node:http2';
import { connect as connectUnix } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadSync, type MethodDefinition, type ServiceDefinition } from '@grpc/proto-loader';
import { errorMessage, GpumonError } from '@gpumon/runtime/errors';

/** One container's devices of one GPU resource, as the kubelet allocated them. */
export interface PodDevices {
  namespace: string;
  pod: string;
  container: string;
  resourceName: string;
  /** GPU (`GPU-…`) or MIG (`MIG-…`) UUIDs as the device plugin named them, shared-GPU replica suffix removed. */
  deviceIds: string[];
}

/** Through `../../src/` so the same path holds from src/attribution/ and dist/attribution/: tsc does not copy .proto files. */
const PROTO_PATH = fileURLToPath(new URL('../../src/attribution/podresources.proto', import.meta.url));

/** The decoded List answer, with the .proto's own field names and every repeated field present. */
interface ListPodResourcesResponse {
  pod_resources: {
    name: string;
    namespace: string;
    containers: { name: string; devices: { resource_name: string; device_ids: string[] }[] }[];
  }[];
}

let service: ServiceDefinition | undefined;

/**
 * The kubelet's `v1.PodResourcesLister` service from the vendored .proto, loaded once per process, with
 * the .proto's field names (`pod_resources`, `device_ids`): what this client calls and a fake kubelet serves.
 */
export function podResourcesListerService(): ServiceDefinition {
  try {
    service ??= loadSync(PROTO_PATH, { keepCase: true, defaults: true, arrays: true, longs: String })[
      'v1.PodResourcesLister'
    ] as ServiceDefinition;
  } catch (error) {
    throw new GpumonError('config_invalid', `pod-resources: cannot load ${PROTO_PATH}: ${errorMessage(error)}`, { cause: error });
  }
  return service;
}

/**
 * Resource names of whole GPUs, MIG slices and shared GPUs as the NVIDIA device plugin advertises them
 * (`nvidia.com/gpu`, `nvidia.com/mig-1g.5gb`, `nvidia.com/gpu.shared`, `nvidia.com/mig-1g.5gb.shared`).
 */
const GPU_RESOURCE = /^nvidia\.com\/(gpu|mig-[^/]+)(\.[^/]+)?$/;
const GPU_OR_MIG_UUID = /^(GPU|MIG)-\S+$/;
/** Time-slicing and MPS sharing advertise each GPU once per replica as `<uuid>::<replica>`. */
const REPLICA_SUFFIX = /::\d+$/;

/**
 * A device entry is a GPU when its resource name says so, or when every id is a GPU or MIG UUID: the
 * device plugin can rename resources (`sharing.timeSlicing.resources[].rename`) to anything.
 */
function isGpuDevice(resourceName: string, deviceIds: string[]): boolean {
  return GPU_RESOURCE.test(resourceName) || (deviceIds.length > 0 && deviceIds.every((id) => GPU_OR_MIG_UUID.test(id)));
}

/** The GPU devices of every pod container in a List answer; other devices and device-less containers are left out. */
function gpuPodDevices(response: ListPodResourcesResponse): PodDevices[] {
  const found: PodDevices[] = [];
  for (const pod of response.pod_resources) {
    for (const container of pod.containers) {
      for (const device of container.devices) {
        const deviceIds = [...new Set(device.device_ids.map((id) => id.replace(REPLICA_SUFFIX, '')))];
        if (!isGpuDevice(device.resource_name, deviceIds)) continue;
        found.push({ namespace: pod.namespace, pod: pod.name, container: container.name, resourceName: device.resource_name, deviceIds });
      }
    }
  }
  return found;
}

const GRPC_OK = '0';
const GRPC_UNIMPLEMENTED = '12';

/** A gRPC message on the wire: compression flag 0, 4-byte big-endian length, the bytes. */
function frame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

/** The single uncompressed message of a unary answer, or why there is none. */
function unframe(body: Buffer): Buffer {
  if (body.length < 5) throw new Error(`answer of ${body.length} bytes holds no gRPC message`);
  if (body[0] !== 0) throw new Error('answer is compressed, which was not asked for');
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) throw new Error(`answer of ${body.length} bytes does not hold one ${length}-byte gRPC message`);
  return body.subarray(5);
}

/** gRPC status of an answer from its trailers, or from its headers in a trailers-only (error) answer. */
function grpcFailure(headers: IncomingHttpHeaders, trailers: IncomingHttpHeaders): string | null {
  const code = trailers['grpc-status'] ?? headers['grpc-status'];
  if (code === GRPC_OK) return null;
  if (code === GRPC_UNIMPLEMENTED) return 'the kubelet does not serve pod-resources v1 List (Kubernetes before 1.20?)';
  if (code === undefined) return `answer without a gRPC status (HTTP ${String(headers[':status'])}): not a gRPC server?`;
  const message = trailers['grpc-message'] ?? headers['grpc-message'];
  return `gRPC status ${String(code)}${typeof message === 'string' ? `: ${decodeURIComponent(message)}` : ''}`;
}

/** What a socket error means here; the error's own text where it is not one of these. */
const SOCKET_ERRORS: Record<string, string> = {
  ENOENT: 'no such socket (kubelet not running here, or its pod-resources folder not mounted into the agent)',
  EACCES: 'permission denied (the agent needs write access to the socket: root, or a group that has it)',
  ECONNREFUSED: 'connection refused (not a socket, or nothing listening on it)',
};

/** http2 reports a failed connect as the stream's cancellation, with the socket's error as its cause. */
function connectionFailure(error: Error): Error {
  const root = error.cause instanceof Error ? error.cause : error;
  const known = SOCKET_ERRORS[(root as NodeJS.ErrnoException).code ?? ''];
  return known === undefined ? root : new Error(known, { cause: root });
}

/**
 * One unary gRPC call over HTTP/2 on a unix socket, written on node:http2 rather than a grpc-js channel
 * because the deadline must own the socket: a grpc-js channel closed while its connection is still
 * in the HTTP/2 handshake (a kubelet that accepts but never speaks) keeps that socket open, one more
 * every round. Here the session is destroyed on every outcome.
 */
function callUnary(socketPath: string, path: string, request: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const session = connectHttp2('http://localhost', { createConnection: () => connectUnix(socketPath) });
    let settled = false;
    const settle = (error: Error | null, message?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      session.destroy();
      if (error) reject(error);
      else resolve(message!);
    };
    const deadline = setTimeout(() => settle(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    session.on('error', (error) => settle(connectionFailure(error)));

    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': `${timeoutMs}m`,
    });
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (received) => (headers = received));
    stream.on('trailers', (received) => (trailers = received));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (error) => settle(connectionFailure(error)));
    stream.on('end', () => {
      const failure = grpcFailure(headers, trailers);
      if (failure !== null) return settle(new Error(failure));
      try {
        settle(null, unframe(Buffer.concat(chunks)));
      } catch (error) {
        settle(error as Error);
      }
    });
    stream.on('close', () => settle(new Error(`stream closed before the answer ended (HTTP/2 code ${stream.rstCode})`)));
    stream.end(frame(request));
  });
}

/**
 * Lists pods' devices from the kubelet pod-resources v1 API over the unix socket; throws a GpumonError
 * naming the socket on no answer within timeoutMs or any failure.
 */
export async function listPodDevices(socketPath: string, timeoutMs: number): Promise<PodDevices[]> {
  const list = podResourcesListerService()['List'] as MethodDefinition<object, object, object, ListPodResourcesResponse>;
  try {
    const answer = await callUnary(socketPath, list.path, list.requestSerialize({}), timeoutMs);
    return gpuPodDevices(list.responseDeserialize(answer));
  } catch (error) {
    throw new GpumonError('service_unreachable', `pod-resources ${socketPath}: ${errorMessage(error)}`, { cause: error });
  }
}

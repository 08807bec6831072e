import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podResourcesListerService } from '@gpumon/nvidia-smi/attribution/pod-resources';
import { parseNvidiaSmiXml } from '@gpumon/nvidia-smi/parse';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { eventually, provisionTopics, startCli, type CliProcess } from './cli-process.js';
import { refreshRollups } from './rollups.js';
import { ofHosts } from './records.js';

/**
 * Attribution end to end on the real stack: `gpumon agent` on the fixture host of
 * producers/nvidia-smi/testdata/attribution (a fake nvidia-smi whose GPUs run processes, a fake
 * /proc, a Slurm job map, a fake kubelet answering pod-resources on a unix socket, a kernel log)
 * → gpu.samples.v1 → price-usage with a team file → the sink → gpu_workloads and the views that
 * answer cost per team and the jobs hit by a fault.
 */
const run = randomBytes(3).toString('hex');
const hostname = `e2e-attribution-${run}`;
const cluster = `e2e-${run}`;
const prefix = `${hostname}.`;
const FIXTURE = fileURLToPath(new URL('../../../producers/nvidia-smi/testdata/attribution', import.meta.url));
const FAKE_NVIDIA_SMI = fileURLToPath(new URL('../../../producers/nvidia-smi/testdata/bin/nvidia-smi', import.meta.url));
const GPU_A = 'GPU-72afe7aa-2a11-ec75-c9b6-c4fc6a41ab11';

/** The fixture host's kubelet: its pod-resources List answer, snake_case as on the wire. */
const KUBELET = JSON.parse(readFileSync(join(FIXTURE, 'kubelet.json'), 'utf8')) as unknown;

const TEAMS = `rules:
  - team: ml-platform-${run}
    match: { namespace: ml }
  - team: serving-${run}
    match: { namespace: serving }
  - team_from: account
    match: { kind: SLURM_JOB }
`;

const kafka = createKafka(loadConfig(kafkaOptions, { topicPrefix: prefix }), 'e2e-attribution');
const registry = createRegistryClient(loadConfig(registryOptions));
const pool = createPool(loadConfig(databaseOptions));
const started = new Date();
const processes: CliProcess[] = [];
let host: string;
let kubelet: Server;

beforeAll(async () => {
  host = mkdtempSync(join(tmpdir(), 'gpumon-e2e-attribution-'));
  cpSync(FIXTURE, host, { recursive: true });
  writeFileSync(join(host, 'kern.log'), '');
  writeFileSync(join(host, 'teams.yaml'), TEAMS);
  kubelet = new Server();
  kubelet.addService(podResourcesListerService(), { List: (_: unknown, reply: (error: null, answer: unknown) => void) => reply(null, KUBELET) });
  await new Promise<void>((resolve, reject) =>
    kubelet.bindAsync(`unix:${join(host, 'kubelet.sock')}`, ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())));

  const env = { GPUMON_TOPIC_PREFIX: prefix };
  await provisionTopics(env);
  processes.push(
    startCli(['sink', '--streams', 'samples,economics', '--group', `${hostname}-sink`], env),
    startCli(['process', 'price-usage', '--group', `${hostname}-price-usage`, '--teams', join(host, 'teams.yaml')], env),
    startCli([
      'agent', '--interval', '1s', '--collect-timeout', '800ms', '--nvidia-smi', FAKE_NVIDIA_SMI, '--hostname', hostname,
      '--state-dir', join(host, 'state'), '--xid-source', `file:${join(host, 'kern.log')}`, '--cluster', cluster,
      '--proc-root', join(host, 'proc'), '--slurm-job-map-dir', join(host, 'slurm-jobs'), '--pod-resources-socket', join(host, 'kubelet.sock'),
    ], { ...env, FAKE_NVIDIA_SMI_XML: join(host, 'nvidia-smi.xml'), FAKE_NVIDIA_SMI_LIST: join(host, 'nvidia-smi-L.txt') }),
  );
});

afterAll(async () => {
  for (const p of processes) await p.stop();
  kubelet?.forceShutdown();
  const gpus = parsedHost().map((s) => s.gpu_uuid);
  for (const table of ['gpu_workload_samples', 'gpu_workload_costs']) {
    await pool.query(`DELETE FROM ${table} WHERE gpu_uuid = ANY($1) AND time >= $2`, [gpus, started]);
  }
  await pool.query('DELETE FROM gpu_workloads WHERE cluster = $1 OR workload_id IN (SELECT workload_id FROM gpu_workloads WHERE first_seen >= $2 AND workload_id LIKE $3)', [cluster, started, 'k8s:pod-%']);
  for (const table of ['gpu_samples', 'gpu_economics']) await pool.query(`DELETE FROM ${table} WHERE ${ofHosts(table, '= $1')}`, [hostname]);
  await pool.end();
  await removeTopics(kafka, registry, prefix);
  rmSync(host, { recursive: true, force: true });
});

function parsedHost() {
  return parseNvidiaSmiXml(readFileSync(join(FIXTURE, 'nvidia-smi.xml'), 'utf8'), { hostname, time: 0 }).samples;
}

const diagnose = (): string => processes.map((p, i) => `--- ${['sink', 'price-usage', 'agent'][i]} (last 3 KB) ---\n${p.output().slice(-3072)}`).join('\n');

describe('attribution from the agent to the SQL views', () => {
  it('keeps each pod container and Slurm job once in gpu_workloads, with its names', { timeout: 90_000 }, async () => {
    const { rows } = await eventually('the fixture host\'s workloads', async () => {
      const result = await pool.query<Record<string, string | null>>(
        `SELECT workload_id, kind, namespace, pod, container, job_id, job_user, account, source FROM gpu_workloads WHERE cluster = $1 ORDER BY workload_id`, [cluster]);
      return result.rows.length >= 6 ? result : undefined;
    }, 60_000, diagnose);
    expect(rows).toEqual([
      expect.objectContaining({ workload_id: `k8s:${cluster}/ml/trainer-0/main`, kind: 'KUBERNETES_POD', namespace: 'ml', pod: 'trainer-0', container: 'main', source: 'pod-resources' }),
      expect.objectContaining({ workload_id: `k8s:${cluster}/research/notebook-7f9c/jupyter`, namespace: 'research', pod: 'notebook-7f9c', container: 'jupyter' }),
      expect.objectContaining({ workload_id: `k8s:${cluster}/serving/inference-a/server`, namespace: 'serving', pod: 'inference-a', container: 'server' }),
      expect.objectContaining({ workload_id: expect.stringMatching(/^k8s:pod-0a1b2c3d-/), kind: 'KUBERNETES_POD', source: 'cgroup' }),
      expect.objectContaining({ workload_id: `slurm:${cluster}/9001`, kind: 'SLURM_JOB', job_id: '9001', job_user: 'alice', account: 'physics' }),
      expect.objectContaining({ workload_id: `slurm:${cluster}/9002`, kind: 'SLURM_JOB', job_id: '9002', job_user: 'bob', account: 'chem', source: 'environ' }),
    ]);
    const { rows: problems } = await pool.query<{ problems: string[] }>(
      `SELECT attribution_problems AS problems FROM gpu_samples WHERE gpu_uuid IN (SELECT gpu_uuid FROM gpu_devices WHERE hostname = $1) AND gpu_uuid = $2 ORDER BY time DESC LIMIT 1`, [hostname, GPU_A]);
    expect(problems[0]!.problems).toContain('pid 4242: exited before /proc was read');
  });

  it('lists the jobs and pods on the GPU when it throws Xid 48 (gpu_fault_workloads)', { timeout: 90_000 }, async () => {
    const mig = parsedHost().find((s) => s.mig_mode_enabled === true)!;
    const pci = mig.pci_bus_id!.slice(4, 14).toLowerCase();
    appendFileSync(join(host, 'kern.log'), `${new Date().toISOString()} ${hostname} kernel: NVRM: Xid (PCI:${pci}): 48, pid=7001, name=python3, An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer.\n`);
    const hit = await eventually('the Xid 48 with its workloads', async () => {
      const { rows } = await pool.query<{ workload_id: string | null; job_user: string | null }>(
        'SELECT workload_id, job_user FROM gpu_fault_workloads WHERE hostname = $1 AND kind = $2 AND xid = 48 ORDER BY workload_id', [hostname, 'xid']);
      return rows.length > 0 ? rows : undefined;
    }, 60_000, diagnose);
    expect(hit.map((r) => r.workload_id)).toEqual([
      `k8s:${cluster}/research/notebook-7f9c/jupyter`, expect.stringMatching(/^k8s:pod-0a1b2c3d-/), `slurm:${cluster}/9001`, `slurm:${cluster}/9002`,
    ]);
    expect(hit.map((r) => r.job_user)).toEqual([null, null, 'alice', 'bob']);
  });

  it('charges each interval to the workloads by team, the parts adding up to the GPU (gpu_workload_cost_daily, gpu_team_cost_daily)', { timeout: 90_000 }, async () => {
    await eventually('cost parts of every GPU of the host', async () => {
      const { rows } = await pool.query<{ n: number }>(
        'SELECT count(DISTINCT c.gpu_uuid)::int AS n FROM gpu_workload_costs c JOIN gpu_economics e ON e.gpu_uuid = c.gpu_uuid AND e.time = c.time WHERE e.hostname = $1', [hostname]);
      return rows[0]!.n === 3 ? true : undefined;
    }, 60_000, diagnose);
    // The agent stopped and the sink caught up, the tables hold the run's final figures.
    expect(await processes[2]!.stop(), diagnose()).toBe(0);
    const countParts = async (): Promise<number> => (await pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM gpu_workload_costs c JOIN gpu_economics e ON e.gpu_uuid = c.gpu_uuid AND e.time = c.time WHERE e.hostname = $1', [hostname])).rows[0]!.n;
    let last = -1;
    await eventually('the sink caught up', async () => {
      const now = await countParts();
      const steady = now === last;
      last = now;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      return steady ? true : undefined;
    });
    const { rows: parts } = await pool.query<{ workload_id: string | null; team: string; allocated: string; idle: string }>(
      `SELECT c.workload_id, c.team, c.allocated_cost_micros AS allocated, c.idle_cost_micros AS idle FROM gpu_workload_costs c
        JOIN gpu_economics e ON e.gpu_uuid = c.gpu_uuid AND e.time = c.time WHERE e.hostname = $1`, [hostname]);
    const teamOf = new Map(parts.map((p) => [p.workload_id, p.team]));
    expect(teamOf.get(`k8s:${cluster}/ml/trainer-0/main`)).toBe(`ml-platform-${run}`);
    expect(teamOf.get(`k8s:${cluster}/serving/inference-a/server`)).toBe(`serving-${run}`);
    expect(teamOf.get(`slurm:${cluster}/9001`)).toBe('physics');
    expect(teamOf.get(`k8s:${cluster}/research/notebook-7f9c/jupyter`)).toBe('unassigned');

    // Every GPU interval's parts add up to its gpu_economics row.
    const { rows: mismatched } = await pool.query(
      `SELECT e.gpu_uuid, e.time FROM gpu_economics e JOIN gpu_workload_costs c ON c.gpu_uuid = e.gpu_uuid AND c.time = e.time
        WHERE e.hostname = $1 GROUP BY e.gpu_uuid, e.time, e.allocated_cost_micros, e.idle_cost_micros
       HAVING sum(c.allocated_cost_micros) <> e.allocated_cost_micros OR sum(c.idle_cost_micros) <> e.idle_cost_micros`, [hostname]);
    expect(mismatched).toEqual([]);

    // The views answer from the same parts: the team's spend and how much of it idle, and the workload's with its names.
    const team = `ml-platform-${run}`;
    const sum = (rows: typeof parts, field: 'allocated' | 'idle'): number => rows.reduce((total, p) => total + Number(p[field]), 0);
    const ofTeam = parts.filter((p) => p.team === team);
    await refreshRollups(pool);
    const { rows: [byTeam] } = await pool.query<{ allocated: string; idle: string; gpus: string }>(
      'SELECT sum(allocated_cost_micros) AS allocated, sum(idle_cost_micros) AS idle, max(gpus) AS gpus FROM gpu_team_cost_daily WHERE team = $1', [team]);
    expect({ allocated: Number(byTeam!.allocated), idle: Number(byTeam!.idle), gpus: Number(byTeam!.gpus) }).toEqual({ allocated: sum(ofTeam, 'allocated'), idle: sum(ofTeam, 'idle'), gpus: 1 });
    const { rows: [byWorkload] } = await pool.query<{ allocated: string; namespace: string; pod: string }>(
      'SELECT sum(allocated_cost_micros) AS allocated, min(namespace) AS namespace, min(pod) AS pod FROM gpu_workload_cost_daily WHERE workload_id = $1', [`k8s:${cluster}/ml/trainer-0/main`]);
    expect(byWorkload).toEqual({ allocated: String(sum(ofTeam, 'allocated')), namespace: 'ml', pod: 'trainer-0' });
  });
});

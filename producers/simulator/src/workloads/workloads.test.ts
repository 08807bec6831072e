import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { schemaOf } from '@gpumon/schemas/avro';
import type { GpuSample, Workload } from '@gpumon/schemas/types.generated';
import { SimulatedFleet, type FleetOptions } from '../fleet.js';
import { loadScenario } from '../scenario.js';

const START = Date.parse('2026-01-05T00:00:00Z');
const TEN_MINUTES = 600_000;
const options: FleetOptions = { seed: 3, hosts: 48, gpusPerHost: 8, hostPrefix: 'sim', faultRateScale: 0 };
const sampleType = avro.Type.forSchema(schemaOf('samples') as avro.Schema);

/** Three simulated days of 384 GPUs, every 10 minutes. */
const days = (() => {
  const fleet = new SimulatedFleet(options);
  return Array.from({ length: 3 * 144 }, (_, k) => fleet.sample(START + k * TEN_MINUTES));
})();
const samples = days.flat();

/**
 * A workload as it stays whatever GPU it is seen on. A StatefulSet's pod comes back under the
 * same name (so the same workload id) with a new UID, as in Kubernetes.
 */
const PER_GPU = new Set(['device_uuid', 'gpu_instance_id', 'pids', 'used_memory_mib', 'pod_uid']);
function identity(w: Workload): string {
  return JSON.stringify(w, (key, value: unknown) => (PER_GPU.has(key) ? undefined : value));
}

describe('simulated workloads over three days of 384 GPUs', () => {
  it('names workloads as the agent does, in the clusters of the host prefix', () => {
    const workloads = samples.flatMap((s) => s.workloads ?? []);
    const slurm = workloads.filter((w) => w.kind === 'SLURM_JOB');
    const pods = workloads.filter((w) => w.kind === 'KUBERNETES_POD');
    expect(slurm.length).toBeGreaterThan(0);
    expect(pods.length).toBeGreaterThan(0);
    for (const w of slurm.slice(0, 2000)) {
      expect(w.workload_id).toBe(`slurm:sim-slurm/${w.job_id}`);
      expect(w).toMatchObject({ source: 'simulator', cluster: 'sim-slurm', namespace: null, pod: null, job_id: expect.stringMatching(/^\d+$/) });
      expect(['physics', 'chemistry', 'ml-research', 'bio']).toContain(w.account);
      expect(['gpu', 'gpu-long', 'debug']).toContain(w.partition);
    }
    for (const w of pods.slice(0, 2000)) {
      expect(w.workload_id).toBe(`k8s:${w.cluster}/${w.namespace}/${w.pod}/${w.container}`);
      expect(w).toMatchObject({ source: 'simulator', cluster: 'sim-k8s', job_id: null, pod_uid: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expect(w.pod).toMatch(/^[a-z-]+-([bcdfghjklmnpqrstvwxz2456789]{9}-[bcdfghjklmnpqrstvwxz2456789]{5}|[bcdfghjklmnpqrstvwxz2456789]{5}|\d+)$/);
    }
  });

  it('keeps every reading consistent: processes point into workloads, memory within what the GPU uses', () => {
    const wrong = samples.filter((s) => {
      const processes = s.processes ?? [];
      const ids = new Set(s.workloads!.map((w) => w.workload_id));
      const pids = new Set(processes.map((p) => p.pid));
      const memory = processes.reduce((sum, p) => sum + p.used_memory_mib!, 0);
      return s.process_count !== processes.length || ids.size !== s.workloads!.length ||
        processes.some((p) => p.workload_id !== null && !ids.has(p.workload_id)) ||
        s.workloads!.some((w) => w.pids.some((pid) => !pids.has(pid)) || (w.pids.length === 0) !== (w.used_memory_mib === null)) ||
        memory > s.memory_used_mib! || (processes.length > 0 && s.memory_used_mib! <= 1);
    });
    expect(wrong.slice(0, 2)).toEqual([]);
  });

  it('runs jobs that start and end, Slurm jobs spanning hosts, with one identity across their GPUs', () => {
    const seen = new Map<string, { identity: string; first: number; last: number; hosts: Set<string>; spanned: boolean }>();
    for (const tick of days) {
      const hostsNow = new Map<string, Set<string>>();
      const uidNow = new Map<string, string | null>();
      for (const s of tick) {
        for (const w of s.workloads!) {
          expect(uidNow.get(w.workload_id) ?? w.pod_uid).toBe(w.pod_uid);
          uidNow.set(w.workload_id, w.pod_uid);
          const job = seen.get(w.workload_id) ?? { identity: identity(w), first: s.time, last: s.time, hosts: new Set(), spanned: false };
          expect(identity(w)).toBe(job.identity);
          job.last = s.time;
          job.hosts.add(s.hostname);
          seen.set(w.workload_id, job);
          hostsNow.set(w.workload_id, (hostsNow.get(w.workload_id) ?? new Set()).add(s.hostname));
        }
      }
      for (const [id, hosts] of hostsNow) if (hosts.size > 1) seen.get(id)!.spanned = true;
    }
    const jobs = [...seen.entries()];
    const end = START + (days.length - 1) * TEN_MINUTES;
    const startedAndEnded = jobs.filter(([, j]) => j.first > START && j.last < end);
    expect(startedAndEnded.length).toBeGreaterThan(jobs.length / 2);
    const spanning = jobs.filter(([, j]) => j.spanned);
    expect(spanning.length).toBeGreaterThan(5);
    expect(spanning.every(([id]) => id.startsWith('slurm:'))).toBe(true);
    // Job ids grow with the jobs' start times (to the tick the start is first seen at).
    const slurm = jobs.filter(([id, j]) => id.startsWith('slurm:') && j.first > START)
      .map(([, j]) => ({ id: Number(JSON.parse(j.identity).job_id), first: j.first })).sort((a, b) => a.id - b.id);
    const outOfOrder = slurm.filter((j, i) => i > 0 && j.first < slurm[i - 1]!.first - TEN_MINUTES);
    expect(outOfOrder).toEqual([]);
  });

  it('leaves some GPUs unallocated and holds some idle, and rarely finds a process outside the schedulers', () => {
    const unallocated = samples.filter((s) => s.workloads!.length === 0).length;
    const heldIdle = samples.filter((s) => s.workloads!.length > 0 && s.processes!.length === 0).length;
    const running = samples.filter((s) => s.processes!.length > 0).length;
    const stray = samples.filter((s) => s.processes!.some((p) => p.workload_id === null)).length;
    expect(unallocated / samples.length).toBeGreaterThan(0.02);
    expect(unallocated / samples.length).toBeLessThan(0.15);
    expect(heldIdle / samples.length).toBeGreaterThan(0.1);
    expect(stray).toBeGreaterThan(0);
    expect(stray / running).toBeLessThan(0.1);
  });

  it('time-slices some GPUs between two pods that split its memory', () => {
    const shared = samples.filter((s) => !s.mig_mode_enabled && s.processes!.filter((p) => p.workload_id !== null).length === 2);
    expect(shared.length).toBeGreaterThan(100);
    for (const s of shared.slice(0, 200)) {
      const [a, b] = s.workloads!;
      expect(a!.kind).toBe('KUBERNETES_POD');
      expect(a!.workload_id).not.toBe(b!.workload_id);
      expect(a!.used_memory_mib! + b!.used_memory_mib!).toBeLessThanOrEqual(s.memory_used_mib!);
      expect(a!.used_memory_mib! + b!.used_memory_mib!).toBeGreaterThan(s.memory_used_mib! - 2);
    }
  });

  it('cuts MIG boards into slices that a pod each holds, or nobody', () => {
    const mig = samples.filter((s) => s.mig_mode_enabled === true);
    expect(mig.length).toBeGreaterThan(0);
    expect(mig.every((s) => s.product_name === 'NVIDIA H100 80GB HBM3' || s.product_name === 'NVIDIA A100-SXM4-80GB')).toBe(true);
    let emptySlices = 0;
    for (const s of mig) {
      const slices = new Map(s.mig_instances.map((m) => [m.mig_uuid, m]));
      expect(s.mig_instances.reduce((sum, m) => sum + m.memory_total_mib!, 0)).toBeLessThanOrEqual(s.memory_total_mib!);
      for (const m of s.mig_instances) {
        expect(m.mig_uuid).toMatch(/^MIG-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(m.memory_used_mib!).toBeLessThanOrEqual(m.memory_total_mib!);
      }
      for (const w of s.workloads!) {
        expect(slices.get(w.device_uuid!)?.gpu_instance_id).toBe(w.gpu_instance_id);
        expect(w.used_memory_mib ?? 0).toBeLessThanOrEqual(slices.get(w.device_uuid!)!.memory_total_mib!);
      }
      emptySlices += s.mig_instances.length - s.workloads!.length;
    }
    expect(emptySlices).toBeGreaterThan(0);
    expect(mig.some((s) => new Set(s.workloads!.map((w) => w.device_uuid)).size >= 2)).toBe(true);
  });

  it('writes records the Avro schema accepts', () => {
    for (const s of samples.filter((_, i) => i % 97 === 0)) expect(sampleType.isValid(s), JSON.stringify(s.workloads)).toBe(true);
  });
});

describe('simulated workloads, deterministic', () => {
  const attributionOf = (s: GpuSample) => ({ gpu: s.gpu_uuid, processes: s.processes, workloads: s.workloads, mig: s.mig_instances });

  it('gives every GPU the same workloads whichever GPUs are simulated with it, in whatever order', () => {
    const small = { ...options, hosts: 12 };
    const whole = new SimulatedFleet(small);
    const expected = Array.from({ length: 200 }, (_, k) => whole.sample(START + k * TEN_MINUTES).map(attributionOf));
    // Another process that simulates hosts 5–12 only, GPU by GPU and backwards.
    const part = new SimulatedFleet(small).gpus.slice(32).reverse();
    for (let k = 0; k < 200; k++) {
      const got = part.map((gpu) => attributionOf(gpu.sample(START + k * TEN_MINUTES))).reverse();
      expect(got).toEqual(expected[k]!.slice(32));
    }
    expect(expected.flat().some((a) => (a.workloads ?? []).length > 0)).toBe(true);
  });

  it('gives the same workloads for the same seed, and others for another', () => {
    const run = (seed: number) => {
      const fleet = new SimulatedFleet({ ...options, hosts: 4, seed });
      return Array.from({ length: 50 }, (_, k) => fleet.sample(START + k * TEN_MINUTES).map((s) => s.workloads));
    };
    expect(run(3)).toEqual(run(3));
    expect(run(4)).not.toEqual(run(3));
  });
});

describe('simulated workloads of a failing GPU', () => {
  it('lose their job at the failure: a drained GPU holds no workload, a lost or unreadable one lists no processes', () => {
    const scenario = loadScenario(new URL('../../scenarios/every-fault.yaml', import.meta.url).pathname);
    const fleet = new SimulatedFleet({ seed: 5, hosts: 2, gpusPerHost: 8, hostPrefix: 'f', scenario });
    const failed = Array.from({ length: 12 * 6 }, (_, k) => fleet.sample(START + k * TEN_MINUTES)).flat()
      .filter((s) => s.simulated_fault?.phase === 'FAILED');
    expect(failed.length).toBeGreaterThan(0);
    for (const s of failed) {
      // A lost GPU's attribution is unknown (lostSample), not none.
      expect(s.workloads).toEqual(s.gpu_lost ? null : []);
      expect(s.processes).toEqual(s.gpu_lost || s.utilization_gpu_pct === null ? null : []);
    }
    expect(failed.some((s) => s.gpu_lost)).toBe(true);
    expect(failed.some((s) => s.utilization_gpu_pct === null && !s.gpu_lost)).toBe(true);
  });
});

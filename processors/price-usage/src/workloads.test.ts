import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schemaOf } from '@gpumon/schemas/avro';
import type { GpuEconomics, GpuProcess, GpuSample, MigInstance, Workload, WorkloadCost } from '@gpumon/schemas/types.generated';
import { createRandom } from '@gpumon/simulator/random';
import { priceUsage } from './price.js';
import { parsePricing } from './pricing.js';
import { parseTeams } from './teams.js';

/** 2026-01-01T00:00:00Z, an hour boundary. */
const T0 = 1_767_225_600_000;
const SITE = { electricity_per_kwh: 0.08, pue: 1.5, carbon_kg_per_kwh: 0.39 };
const PRICING = parsePricing({ currency: 'USD', defaults: SITE, models: [{ match: 'H100', hourly_price: 2.99 }, { match: 'A100', hourly_price: 1.8 }] }, 'test-pricing.yaml');
const TEAMS = parseTeams({ rules: [{ team: 'vision', match: { namespace: 'team-vision' } }, { team_from: 'namespace' }, { team_from: 'account' }] }, 'test-teams.yaml');
const BLANK = Object.fromEntries(schemaOf('samples').fields.map((field) => [field.name, field.default ?? null])) as unknown as GpuSample;

/** A sample of the fields given, the rest null; workloads and processes with their unnamed fields null. */
function sampleOf(fields: Omit<Partial<GpuSample>, 'workloads' | 'processes'> & { workloads?: Array<Partial<Workload>> | null; processes?: Array<Partial<GpuProcess>> | null }): GpuSample {
  const { workloads, processes, ...rest } = fields;
  return {
    ...BLANK, time: T0 + 10_000, gpu_uuid: 'GPU-example', hostname: 'example-host', source: 'SIMULATOR', product_name: 'NVIDIA H100 80GB HBM3', interval_s: 10,
    power_draw_average_w: 700, utilization_gpu_pct: 75, ...rest,
    workloads: workloads === undefined || workloads === null ? (workloads ?? null) : workloads.map(workloadOf),
    processes: processes === undefined || processes === null ? (processes ?? null) : processes.map(processOf),
  };
}

function workloadOf(fields: Partial<Workload>): Workload {
  return {
    workload_id: 'k8s:default/pod/main', kind: 'KUBERNETES_POD', source: 'pod-resources', device_uuid: null, gpu_instance_id: null, cluster: null, namespace: null,
    pod: null, pod_uid: null, container: null, job_id: null, user: null, account: null, partition: null, pids: [], used_memory_mib: null, ...fields,
  };
}

function processOf(fields: Partial<GpuProcess>): GpuProcess {
  return { pid: 1, type: 'C', name: 'python', used_memory_mib: null, gpu_instance_id: null, compute_instance_id: null, workload_id: null, ...fields };
}

function pod(namespace: string, name: string, memory: number | null, extra: Partial<Workload> = {}): Partial<Workload> {
  return { workload_id: `k8s:${namespace}/${name}/main`, namespace, pod: name, container: 'main', used_memory_mib: memory, ...extra };
}

function costsOf(sample: GpuSample): { gpu: GpuEconomics; parts: WorkloadCost[] } {
  const gpu = priceUsage(sample, PRICING, TEAMS);
  if (gpu === null) throw new Error('expected a record');
  return { gpu, parts: gpu.workloads };
}

/** The money of the parts adds up to the GPU's exactly, each part's idle is its allocated less its used, none negative. */
function expectExactParts({ gpu, parts }: { gpu: GpuEconomics; parts: WorkloadCost[] }): void {
  const sum = (field: 'allocated_cost_micros' | 'used_cost_micros' | 'idle_cost_micros') => parts.reduce((total, p) => total + p[field], 0);
  expect([sum('allocated_cost_micros'), sum('used_cost_micros'), sum('idle_cost_micros')]).toEqual([gpu.allocated_cost_micros, gpu.used_cost_micros, gpu.idle_cost_micros]);
  for (const p of parts) {
    expect(p.idle_cost_micros).toBe(p.allocated_cost_micros - p.used_cost_micros);
    expect(p.used_cost_micros).toBeGreaterThanOrEqual(0);
    expect(p.idle_cost_micros).toBeGreaterThanOrEqual(0);
  }
  expect(parts.reduce((total, p) => total + p.share, 0)).toBeCloseTo(1, 12);
  expect(parts.reduce((total, p) => total + p.energy_kwh, 0)).toBeCloseTo(gpu.energy_kwh, 15);
}

describe('splitting a GPU among its workloads', () => {
  it('splits a shared GPU by the memory each workload\'s processes hold, unattributed processes making one more part', () => {
    const costs = costsOf(sampleOf({
      workloads: [pod('team-vision', 'trainer-0', 30_000, { pids: [4242] }), pod('team-nlp', 'embed-7', 10_000, { pids: [5151] })],
      processes: [{ pid: 4242, used_memory_mib: 30_000, workload_id: 'k8s:team-vision/trainer-0/main' }, { pid: 5151, used_memory_mib: 10_000, workload_id: 'k8s:team-nlp/embed-7/main' }, { pid: 6060, used_memory_mib: 10_000 }],
    }));
    expect(costs.gpu).toMatchObject({ allocated_cost_micros: 8305, used_cost_micros: 6229, idle_cost_micros: 2076 });
    expect(costs.parts.map(({ workload_id, team, share, allocated_cost_micros, used_cost_micros, idle_cost_micros }) => [workload_id, team, share, allocated_cost_micros, used_cost_micros, idle_cost_micros])).toEqual([
      ['k8s:team-vision/trainer-0/main', 'vision', 0.6, 4983, 3737, 1246],
      ['k8s:team-nlp/embed-7/main', 'team-nlp', 0.2, 1661, 1246, 415],
      [null, 'unattributed', 0.2, 1661, 1246, 415],
    ]);
    expectExactParts(costs);
  });

  it('charges a GPU held with nothing running to its holder, all of it idle; two such holders evenly', () => {
    const alone = costsOf(sampleOf({ utilization_gpu_pct: 0, workloads: [pod('research', 'notebook', null)], processes: [] }));
    expect(alone.parts).toEqual([{ workload_id: 'k8s:research/notebook/main', team: 'research', share: 1, energy_kwh: alone.gpu.energy_kwh, allocated_cost_micros: 8305, used_cost_micros: 0, idle_cost_micros: 8305 }]);
    const pair = costsOf(sampleOf({ utilization_gpu_pct: 0, workloads: [pod('research', 'a', null), pod('research', 'b', null)], processes: [] }));
    // 8305 ÷ 2 = 4152.5: the odd micro-unit goes to the earlier part.
    expect(pair.parts.map((p) => [p.share, p.allocated_cost_micros, p.idle_cost_micros])).toEqual([[0.5, 4153, 4153], [0.5, 4152, 4152]]);
    expectExactParts(pair);
  });

  it('splits evenly where no memory is read, and by memory where some is, a holder of none paying nothing', () => {
    const unread = costsOf(sampleOf({ workloads: [pod('a', 'x', null, { pids: [1] }), pod('b', 'y', null, { pids: [2] })], processes: [{ pid: 1, workload_id: 'k8s:a/x/main' }, { pid: 2, workload_id: 'k8s:b/y/main' }, { pid: 3 }] }));
    expect(unread.parts.map((p) => [p.workload_id, p.share])).toEqual([['k8s:a/x/main', 1 / 3], ['k8s:b/y/main', 1 / 3], [null, 1 / 3]]);
    expectExactParts(unread);
    const mixed = costsOf(sampleOf({ workloads: [pod('a', 'x', 1000), pod('b', 'y', null)], processes: [{ pid: 1, used_memory_mib: 1000, workload_id: 'k8s:a/x/main' }, { pid: 3, used_memory_mib: 0 }] }));
    expect(mixed.parts.map((p) => [p.workload_id, p.share, p.allocated_cost_micros])).toEqual([['k8s:a/x/main', 1, 8305], ['k8s:b/y/main', 0, 0]]);
    // A negative or non-finite memory figure weighs nothing: it counts as not read.
    const impossible = costsOf(sampleOf({ workloads: [pod('a', 'x', -5), pod('b', 'y', Number.NaN)] }));
    expect(impossible.parts.map((p) => [p.workload_id, p.share])).toEqual([['k8s:a/x/main', 0.5], ['k8s:b/y/main', 0.5]]);
    const fractional = costsOf(sampleOf({ workloads: [pod('a', 'x', 0.1), pod('b', 'y', 0.2)] }));
    expect(fractional.parts.map((p) => p.share)).toEqual([1 / 3, 2 / 3]);
  });

  it('charges a GPU no workload holds to the unattributed part, processes running or not', () => {
    for (const processes of [[{ pid: 6060, used_memory_mib: 4000 }], [], null]) {
      const costs = costsOf(sampleOf({ workloads: [], processes }));
      expect(costs.parts).toEqual([{ workload_id: null, team: 'unattributed', share: 1, energy_kwh: costs.gpu.energy_kwh, allocated_cost_micros: 8305, used_cost_micros: 6229, idle_cost_micros: 2076 }]);
    }
    // A process naming a workload the sample does not list belongs to none.
    const stray = costsOf(sampleOf({ workloads: [pod('a', 'x', 1000)], processes: [{ pid: 9, used_memory_mib: 3000, workload_id: 'k8s:gone/pod/main' }] }));
    expect(stray.parts.map((p) => [p.workload_id, p.share])).toEqual([['k8s:a/x/main', 0.25], [null, 0.75]]);
  });

  it('charges nobody where the sample carries no attribution', () => {
    expect(costsOf(sampleOf({ workloads: null, processes: [{ pid: 6060, used_memory_mib: 4000 }] })).parts).toEqual([]);
  });

  it('charges one part per workload, however many entries name it', () => {
    const costs = costsOf(sampleOf({ workloads: [pod('a', 'x', 1000), pod('b', 'y', 1000), pod('a', 'x', 2000)] }));
    expect(costs.parts.map((p) => [p.workload_id, p.share])).toEqual([['k8s:a/x/main', 0.75], ['k8s:b/y/main', 0.25]]);
    expectExactParts(costs);
  });
});

describe('splitting a MIG GPU', () => {
  /** An A100 80GB cut 3g.40gb + 2g.20gb + 1g.10gb + 1g.10gb; the 3g slice has two compute instances. */
  const SLICES: MigInstance[] = [
    { gpu_instance_id: 1, compute_instance_id: 0, mig_uuid: null, profile: '3g.40gb', memory_total_mib: 40_192, memory_used_mib: 30_000 },
    { gpu_instance_id: 1, compute_instance_id: 1, mig_uuid: null, profile: '3g.40gb', memory_total_mib: 40_192, memory_used_mib: 30_000 },
    { gpu_instance_id: 5, compute_instance_id: 0, mig_uuid: 'MIG-5', profile: '2g.20gb', memory_total_mib: 19_968, memory_used_mib: 0 },
    { gpu_instance_id: 13, compute_instance_id: 0, mig_uuid: null, profile: '1g.10gb', memory_total_mib: 9_856, memory_used_mib: 5000 },
    { gpu_instance_id: 14, compute_instance_id: 0, mig_uuid: null, profile: '1g.10gb', memory_total_mib: 9_856, memory_used_mib: 0 },
  ];
  const TOTAL = 40_192 + 19_968 + 9_856 + 9_856;
  const mig = (fields: Parameters<typeof sampleOf>[0]) => sampleOf({ product_name: 'NVIDIA A100-SXM4-80GB', time: T0 + 3_600_000, interval_s: 3600, utilization_gpu_pct: null, mig_instances: SLICES, ...fields });

  it('gives each slice its share of the GPU by memory total, split among its workloads; empty slices and unattributed processes go unattributed', () => {
    const costs = costsOf(mig({
      workloads: [
        pod('team-vision', 'a', 20_000, { gpu_instance_id: 1 }),
        pod('team-vision', 'b', 10_000, { gpu_instance_id: 1 }),
        { workload_id: 'slurm:4242', kind: 'SLURM_JOB', account: 'physics', device_uuid: 'MIG-5' },
      ],
      processes: [{ pid: 777, used_memory_mib: 5000, gpu_instance_id: 13 }],
    }));
    expect(costs.gpu).toMatchObject({ allocated_cost_micros: 1_800_000, used_cost_micros: 0, idle_cost_micros: 1_800_000 });
    expect(costs.parts.map((p) => [p.workload_id, p.team])).toEqual([['k8s:team-vision/a/main', 'vision'], ['k8s:team-vision/b/main', 'vision'], ['slurm:4242', 'physics'], [null, 'unattributed']]);
    const shares = [(40_192 * 2) / 3 / TOTAL, 40_192 / 3 / TOTAL, 0.25, (2 * 9_856) / TOTAL];
    costs.parts.forEach((p, i) => {
      expect(p.share).toBeCloseTo(shares[i]!, 15);
      expect(Math.abs(p.allocated_cost_micros - 1_800_000 * shares[i]!)).toBeLessThan(1);
    });
    expect(costs.parts[2]!.allocated_cost_micros).toBe(450_000);
    expectExactParts(costs);
  });

  it('splits slices evenly where a memory total is missing', () => {
    const costs = costsOf(mig({ mig_instances: SLICES.map((s) => (s.gpu_instance_id === 14 ? { ...s, memory_total_mib: null } : s)), workloads: [pod('a', 'x', null, { gpu_instance_id: 5 })] }));
    expect(costs.parts.map((p) => [p.workload_id, p.share, p.allocated_cost_micros])).toEqual([['k8s:a/x/main', 0.25, 450_000], [null, 0.75, 1_350_000]]);
  });

  it('splits the GPU as one where a workload or an unattributed process cannot be placed on a listed slice', () => {
    const unplaced = costsOf(mig({ workloads: [pod('a', 'x', 1000, { gpu_instance_id: 1 }), pod('b', 'y', 3000, { device_uuid: 'MIG-unknown' })] }));
    expect(unplaced.parts.map((p) => [p.workload_id, p.share])).toEqual([['k8s:a/x/main', 0.25], ['k8s:b/y/main', 0.75]]);
    const stray = costsOf(mig({ workloads: [pod('a', 'x', 1000, { gpu_instance_id: 1 })], processes: [{ pid: 9, used_memory_mib: 1000, gpu_instance_id: 99 }] }));
    expect(stray.parts.map((p) => [p.workload_id, p.share])).toEqual([['k8s:a/x/main', 0.5], [null, 0.5]]);
  });
});

describe('many workloads on one GPU', () => {
  it('tells their processes from unattributed ones as with a few', () => {
    for (const count of [3, 40]) {
      const workloads = Array.from({ length: count }, (_, i) => pod('ns', `p${i}`, null));
      const processes = [
        ...workloads.map((w, i) => ({ pid: 100 + i, used_memory_mib: 100, workload_id: w.workload_id! })),
        { pid: 9, used_memory_mib: 100, workload_id: 'k8s:ns/gone/main' },
      ];
      const costs = costsOf(sampleOf({ workloads: workloads.map((w) => ({ ...w, used_memory_mib: 100 })), processes }));
      expectExactParts(costs);
      expect(costs.parts.map((p) => p.workload_id)).toEqual([...workloads.map((w) => w.workload_id), null]);
      expect(costs.parts.map((p) => p.share)).toEqual(Array.from({ length: count + 1 }, () => 1 / (count + 1)));
    }
  });
});

describe('properties', () => {
  it('adds the parts up exactly to the GPU, each within one micro-unit of its share, over many random GPUs', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const next = createRandom(seed);
      const pick = (n: number) => Math.floor(next() * n);
      const slices = pick(3) === 0 ? SLICE_SETS[pick(SLICE_SETS.length)]! : [];
      const gis = [...new Set(slices.map((s) => s.gpu_instance_id))];
      const memory = () => (pick(4) === 0 ? null : pick(80_000));
      const workloads = Array.from({ length: pick(6) }, (_, i) => pod(`ns-${pick(3)}`, `p${i}`, memory(), { gpu_instance_id: gis.length === 0 ? null : gis[pick(gis.length)]! }));
      const processes = Array.from({ length: pick(4) }, (_, i) => ({ pid: 1000 + i, used_memory_mib: memory(), gpu_instance_id: gis.length === 0 ? null : gis[pick(gis.length)]! }));
      const sample = sampleOf({
        time: T0 + pick(10 ** 9), interval_s: (1 + pick(600_000)) / 1000, utilization_gpu_pct: pick(5) === 0 ? null : pick(10_001) / 100,
        mig_instances: slices, workloads, processes,
      });
      const costs = costsOf(sample);
      expectExactParts(costs);
      for (const p of costs.parts) {
        expect(Math.abs(p.allocated_cost_micros - costs.gpu.allocated_cost_micros * p.share), `seed ${seed}`).toBeLessThan(1 + 1e-6);
        expect(Math.abs(p.used_cost_micros - costs.gpu.used_cost_micros * p.share), `seed ${seed}`).toBeLessThan(1 + 1e-6);
      }
      expect(priceUsage(sample, PRICING, TEAMS)).toEqual(costs.gpu);
    }
  });
});

const SLICE_SETS: MigInstance[][] = [
  [7].map((gi) => ({ gpu_instance_id: gi, compute_instance_id: 0, mig_uuid: null, profile: '7g.80gb', memory_total_mib: 81_152, memory_used_mib: null })),
  [1, 5, 13, 14].map((gi, i) => ({ gpu_instance_id: gi, compute_instance_id: 0, mig_uuid: null, profile: null, memory_total_mib: [40_192, 19_968, 9_856, 9_856][i]!, memory_used_mib: null })),
  [7, 8, 9, 10, 11, 12, 13].map((gi) => ({ gpu_instance_id: gi, compute_instance_id: 0, mig_uuid: null, profile: '1g.10gb', memory_total_mib: 9_856, memory_used_mib: null })),
];

describe('the README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const examples = [...readme.matchAll(/```json workload-example\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as {
    pricing: unknown;
    teams: unknown;
    sample: Parameters<typeof sampleOf>[0];
    expected: WorkloadCost[];
  });

  it('has a worked example of a split', () => {
    expect(examples.length).toBeGreaterThanOrEqual(1);
  });

  it.each(examples.map((example, i) => [i + 1, example] as const))('split example %i holds', (_, { pricing, teams, sample, expected }) => {
    const full = sampleOf({ interval_s: null, product_name: null, power_draw_average_w: null, utilization_gpu_pct: null, ...sample });
    const parts = priceUsage(full, parsePricing(pricing, 'README.md'), parseTeams(teams, 'README.md'))!.workloads;
    // Shares and energy are doubles, written in the README to 10 significant digits; money is exact.
    expect(parts).toHaveLength(expected.length);
    parts.forEach((part, i) => {
      for (const field of ['share', 'energy_kwh'] as const) expect(Math.abs(part[field] - expected[i]![field]), field).toBeLessThanOrEqual(Math.abs(expected[i]![field]) * 1e-9);
    });
    expect(parts).toEqual(expected.map((part, i) => ({ ...part, share: parts[i]!.share, energy_kwh: parts[i]!.energy_kwh })));
  });
});

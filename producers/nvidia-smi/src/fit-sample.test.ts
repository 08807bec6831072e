import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { schemaOf } from '@gpumon/schemas/avro';
import type { GpuSample, Workload } from '@gpumon/schemas/types.generated';
import { fitSample, MAX_SAMPLE_BYTES } from './fit-sample.js';
import { parseNvidiaSmiXml } from './parse.js';

const sampleType = avro.Type.forSchema(schemaOf('samples') as avro.Schema);
const encode = (sample: GpuSample): Buffer => sampleType.toBuffer(sample);
const XML = readFileSync(new URL('../testdata/attribution/nvidia-smi.xml', import.meta.url), 'utf8');
const [gpu] = parseNvidiaSmiXml(XML, { hostname: 'host', time: Date.UTC(2026, 0, 1) }).samples as [GpuSample];

/** Three processes of three jobs whose environments hold ~120 KB values, as attribution read them before names were bounded. */
function hugeJobs(): GpuSample {
  const processes = gpu.processes!.slice(0, 3);
  const workloads: Workload[] = processes.map((p, i) => ({
    workload_id: `slurm:${i}`, kind: 'SLURM_JOB', source: 'environ', device_uuid: gpu.gpu_uuid, gpu_instance_id: null, cluster: null,
    namespace: null, pod: null, pod_uid: null, container: null, job_id: String(i),
    user: 'u'.repeat(120_000), account: 'a'.repeat(120_000), partition: 'p'.repeat(120_000), pids: [p.pid], used_memory_mib: p.used_memory_mib,
  }));
  return { ...gpu, processes: processes.map((p, i) => ({ ...p, workload_id: `slurm:${i}` })), workloads, attribution_problems: ['pid 1: exited before /proc was read'] };
}

describe('fitSample', () => {
  it('leaves a sample within the bound as it is', () => {
    const fitted = fitSample(gpu, encode);
    expect(fitted).toEqual({ sample: gpu, value: encode(gpu) });
  });

  it('cuts the attribution lists of a sample over the bound until it fits, readings kept, and says so in attribution_problems', () => {
    const huge = hugeJobs();
    expect(encode(huge).length).toBeGreaterThan(1024 * 1024);
    const fitted = fitSample(huge, encode);
    expect(fitted.value.length).toBeLessThanOrEqual(MAX_SAMPLE_BYTES);
    expect(fitted.value).toEqual(encode(fitted.sample));
    expect(fitted.sample.workloads!.length).toBeLessThan(3);
    expect(fitted.sample.attribution_problems.at(-1)).toBe(fitted.trimmed);
    expect(fitted.trimmed).toMatch(/^sample of \d+ bytes is over the agent's 262144: cut to \d of 3 processes, \d of 3 workloads/);
    const listsAside = (sample: GpuSample) => ({ ...sample, processes: null, workloads: null, attribution_problems: [] });
    expect(listsAside(fitted.sample)).toEqual(listsAside(huge));
  });
});

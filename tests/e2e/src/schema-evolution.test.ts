import { randomBytes } from 'node:crypto';
import avro from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { Compatibility, createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { schemaOf, type AvroRecord } from '@gpumon/schemas/avro';
import { topicName, valueSubject } from '@gpumon/schemas/topics';
import type { GpuHealth, GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';

/** On the real registry: the subjects gpumon registers are BACKWARD compatible, and the codec reads other writer versions. */
const prefix = `e2e-evolve-${randomBytes(3).toString('hex')}.`;
const registry = createRegistryClient(loadConfig(registryOptions));
const subject = valueSubject(topicName('health', prefix));
const v1 = schemaOf('health');
const withOptionalField: AvroRecord = {
  ...v1,
  fields: [...v1.fields, { name: 'site', type: ['null', 'string'], default: null, doc: 'Data-centre site.' }],
};
const withRequiredField: AvroRecord = {
  ...v1,
  fields: [...v1.fields, { name: 'rack', type: 'string', doc: 'Rack name, required.' }],
};
const avroSchema = (schema: AvroRecord) => ({ schemaType: 'AVRO', schema: JSON.stringify(schema) });

const sampleHealth: GpuHealth = {
  time: 1_767_225_600_000, gpu_uuid: 'GPU-1', hostname: 'h', score: 100, verdict: 'PASS',
  thermal_power: 'PASS', memory: 'PASS', pcie: 'PASS', nvlink: 'PASS', driver: 'PASS', reasons: [],
};

const samplesSubject = valueSubject(topicName('samples', prefix));

afterAll(async () => {
  for (const s of [subject, samplesSubject]) {
    await registry.deleteSubject(s, false).catch(() => undefined);
    await registry.deleteSubject(s, true).catch(() => undefined);
  }
});

describe('schema evolution on the real registry', () => {
  it('registers under TopicNameStrategy with BACKWARD compatibility', async () => {
    const codec = new TopicCodec(registry, 'health', prefix);
    expect(codec.subject).toBe(`${prefix}gpu.health.v1-value`);
    const id = await codec.register();
    expect(await codec.register()).toBe(id);
    expect(await registry.getCompatibility(subject)).toBe('BACKWARD');
  });

  it('accepts a new optional field with a default', async () => {
    expect(await registry.testCompatibility(subject, -1, avroSchema(withOptionalField))).toBe(true);
    await expect(registry.register(subject, avroSchema(withOptionalField))).resolves.toBeGreaterThan(0);
  });

  it('rejects a new required field', async () => {
    expect(await registry.testCompatibility(subject, -1, avroSchema(withRequiredField))).toBe(false);
    await expect(registry.register(subject, avroSchema(withRequiredField))).rejects.toThrow(/409|incompatible/i);
  });

  it('decodes records a newer producer wrote with the evolved schema', async () => {
    const codec = new TopicCodec(registry, 'health', prefix);
    await codec.register();
    const newerId = await registry.register(subject, avroSchema(withOptionalField));
    const body = avro.Type.forSchema(withOptionalField as avro.Schema).toBuffer({ ...sampleHealth, site: 'eu-1' });
    const header = Buffer.alloc(5);
    header.writeUInt32BE(newerId, 1);
    expect(await codec.decode(Buffer.concat([header, body]))).toEqual(sampleHealth);
    expect(await codec.decode(codec.encode(sampleHealth))).toEqual(sampleHealth);
  });
});

/** The fields attribution added to gpu.samples.v1 (issue 8); the schema without them is what agents before it registered. */
const ATTRIBUTION_FIELDS = ['processes', 'workloads', 'attribution_problems'];

describe('the attribution fields of gpu.samples.v1 on the real registry', () => {
  const current = schemaOf('samples');
  const before: AvroRecord = { ...current, fields: current.fields.filter((f) => !ATTRIBUTION_FIELDS.includes(f.name)) };
  const withoutAttribution = (sample: GpuSample): Record<string, unknown> =>
    Object.fromEntries(Object.entries(sample).filter(([name]) => !ATTRIBUTION_FIELDS.includes(name)));
  const reading = new SimulatedFleet({ seed: 8, hosts: 1, gpusPerHost: 1, hostPrefix: 'evolve' }).sample(1_767_225_600_000)[0]!;
  const attributed: GpuSample = {
    ...reading,
    processes: [{ pid: 4242, type: 'C', name: 'python3', used_memory_mib: 3270, gpu_instance_id: null, compute_instance_id: null, workload_id: 'slurm:8812' }],
    workloads: [{
      workload_id: 'slurm:8812', kind: 'SLURM_JOB', source: 'slurm-job-map', device_uuid: reading.gpu_uuid, gpu_instance_id: null, cluster: null,
      namespace: null, pod: null, pod_uid: null, container: null, job_id: '8812', user: 'ada', account: 'physics', partition: 'gpu',
      pids: [4242], used_memory_mib: 3270,
    }],
    attribution_problems: ['pid 4243: exited before /proc was read'],
  };
  const wire = (id: number, body: Buffer): Buffer => {
    const header = Buffer.alloc(5);
    header.writeUInt32BE(id, 1);
    return Buffer.concat([header, body]);
  };

  it('registers the new fields as a BACKWARD-compatible version after the schema agents registered before them', async () => {
    const beforeId = await registry.register(samplesSubject, avroSchema(before));
    await registry.updateCompatibility(samplesSubject, Compatibility.BACKWARD);
    const codec = new TopicCodec(registry, 'samples', prefix);
    const id = await codec.register();
    expect(id).not.toBe(beforeId);
    expect((await registry.getAllVersions(samplesSubject)).length).toBe(2);
  });

  it('a consumer built on the old schema reads new records, without the new fields', async () => {
    const codec = new TopicCodec(registry, 'samples', prefix);
    await codec.register();
    const message = codec.encode(attributed);
    // What an old consumer does: its own reader schema, resolved against the writer schema the registry holds for the id.
    const writer = await registry.getBySubjectAndId(samplesSubject, message.readUInt32BE(1));
    const oldReader = avro.Type.forSchema(before as avro.Schema);
    const resolver = oldReader.createResolver(avro.Type.forSchema(JSON.parse(writer.schema) as avro.Schema));
    expect(oldReader.fromBuffer(message.subarray(5), resolver)).toEqual(withoutAttribution(attributed));
  });

  it('the new code reads records old agents wrote: no processes, no attribution, no problems', async () => {
    const beforeId = await registry.register(samplesSubject, avroSchema(before));
    const old = wire(beforeId, avro.Type.forSchema(before as avro.Schema).toBuffer(withoutAttribution(attributed)));
    const codec = new TopicCodec(registry, 'samples', prefix);
    await codec.register();
    expect(await codec.decode(old)).toEqual({ ...attributed, processes: null, workloads: null, attribution_problems: [] });
    expect(await codec.decode(codec.encode(attributed))).toEqual(attributed);
  });

  it('a projection (the sink leaves out the features) reads each writer version through its own resolver', async () => {
    const beforeId = await registry.register(samplesSubject, avroSchema(before));
    const old = wire(beforeId, avro.Type.forSchema(before as avro.Schema).toBuffer(withoutAttribution(attributed)));
    const codec = new TopicCodec(registry, 'samples', prefix);
    await codec.register();
    const withoutFeatures = codec.decoderLeavingOut(['features']);
    expect(attributed.features).not.toBeNull();
    for (const [value, expected] of [[old, { ...attributed, processes: null, workloads: null, attribution_problems: [] }], [codec.encode(attributed), attributed]] as const) {
      const record = await withoutFeatures(value);
      // toEqual takes a property that is undefined for one that is missing; hasOwn tells them apart.
      expect(record).toEqual({ ...expected, features: undefined });
      expect(Object.hasOwn(record, 'features')).toBe(false);
    }
  });
});

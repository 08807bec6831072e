import { randomBytes } from 'node:crypto';
import avro from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { schemaOf, type AvroRecord } from '@gpumon/schemas/avro';
import { topicName, valueSubject } from '@gpumon/schemas/topics';
import type { GpuHealth } from '@gpumon/schemas/types.generated';

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

afterAll(async () => {
  await registry.deleteSubject(subject, false).catch(() => undefined);
  await registry.deleteSubject(subject, true).catch(() => undefined);
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

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import type { GpuHealth } from '@gpumon/schemas/types.generated';
import { startCli } from './cli-process.js';

/**
 * The subscriber examples of docs/topics.md (examples/), each run as a user runs it against the
 * real stack: records written with the project's own codec come out of each, key and fields intact.
 */
const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const prefix = `contract-${randomBytes(3).toString('hex')}.`;
const settings = loadConfig(kafkaOptions, { topicPrefix: prefix });
const kafka = createKafka(settings, 'e2e');
const registry = createRegistryClient(loadConfig(registryOptions));
const codec = new TopicCodec(registry, 'health', prefix);
const now = Date.now();
const records: GpuHealth[] = [0, 1, 2].map((n) => ({
  time: now + n * 1000, gpu_uuid: `GPU-contract-${n}`, hostname: 'contract-host', score: 100 - 30 * n,
  verdict: n === 2 ? 'FAIL' : 'PASS', thermal_power: 'PASS', memory: n === 2 ? 'FAIL' : 'PASS', pcie: 'PASS', nvlink: 'PASS', driver: 'PASS',
  reasons: n === 2 ? [{ subsystem: 'MEMORY', verdict: 'FAIL', code: 'ecc_volatile_dbe', penalty: 60, message: 'ecc_volatile_dbe 2' }] : [],
}));

/** Runs an example to its end (it stops after MAX_MESSAGES) and returns the JSON lines it printed. */
async function runExample(command: string, args: string[]): Promise<Array<{ key: string; value: Record<string, unknown> }>> {
  const child = spawn(command, args, {
    cwd: EXAMPLES, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TOPIC: codec.topic, MAX_MESSAGES: String(records.length), GROUP_ID: `${prefix}${command.split('/').pop()}` },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code, `${command} ${args.join(' ')}:\n${stderr}`).toBe(0);
  return stdout.trim().split('\n').map((line) => JSON.parse(line) as { key: string; value: Record<string, unknown> });
}

/** What every example must print of each record, in the order each GPU's records were written. */
function expectRecords(printed: Array<{ key: string; value: Record<string, unknown> }>, time: (value: unknown) => number): void {
  const sorted = [...printed].sort((a, b) => a.key.localeCompare(b.key));
  expect(sorted.map((p) => p.key)).toEqual(records.map((r) => r.gpu_uuid));
  sorted.forEach(({ value }, n) => {
    const { time: written, ...fields } = records[n]!;
    expect({ ...value, time: time(value.time) }).toEqual({ ...fields, time: written });
  });
}

beforeAll(async () => {
  const topics = startCli(['topics'], { GPUMON_TOPIC_PREFIX: prefix });
  expect(await topics.exited, topics.output()).toBe(0);
  await codec.register();
  const producer = kafka.producer({ createPartitioner: keyPartitioner });
  await producer.connect();
  await producer.send({ topic: codec.topic, messages: records.map((r) => ({ key: r.gpu_uuid, value: codec.encode(r) })) });
  await producer.disconnect();
}, 120_000);

afterAll(async () => {
  await removeTopics(kafka, registry, prefix);
});

describe('the subscriber examples of docs/topics.md', () => {
  it('TypeScript (kafkajs + avsc + the registry) prints every record with its GPU UUID key', async () => {
    expectRecords(await runExample(process.execPath, ['src/consumer.ts']), Number);
  }, 90_000);

  it('Python (confluent-kafka + fastavro + the registry) prints every record with its GPU UUID key', async () => {
    const python = await new Promise<string>((resolve, reject) => {
      const setup = spawn('bash', [`${EXAMPLES}python-env.sh`], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      setup.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      setup.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`python-env.sh exited with ${code}`))));
    });
    // fastavro reads timestamp-millis as a datetime, which the example prints as ISO text.
    expectRecords(await runExample(python, ['consumer.py']), (time) => new Date(String(time)).getTime());
  }, 240_000);
});

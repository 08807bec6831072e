import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { readRecords } from '../read-topic.js';

/**
 * The single executable `npm run package` built (dist-package/gpumon-agent), run from an empty
 * directory with no Node on PATH, sends one round of the fake nvidia-smi to the real Kafka, into
 * topics that `gpumon topics` created.
 */
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const EXECUTABLE = `${REPO}dist-package/gpumon-agent`;
const FAKE_NVIDIA_SMI = `${REPO}producers/nvidia-smi/testdata/bin/nvidia-smi`;
const FIXTURE = `${REPO}producers/nvidia-smi/testdata/captured/dual_2070-v13.xml`;

const run = randomBytes(3).toString('hex');
const prefix = `package-${run}.`;
const hostname = `package-${run}`;
const work = mkdtempSync(`${tmpdir()}/gpumon-package-`);
const registry = createRegistryClient(loadConfig(registryOptions));
const kafka = createKafka(loadConfig(kafkaOptions), 'package-test');

beforeAll(() => {
  // PATH holds only what the fake nvidia-smi runs: bash and cat.
  mkdirSync(`${work}/bin`);
  for (const tool of ['/bin/bash', '/bin/cat']) symlinkSync(tool, `${work}/bin/${basename(tool)}`);
  const topics = spawnSync(process.execPath, [`${REPO}cli/bin/gpumon.js`, 'topics'], { encoding: 'utf8', env: { ...process.env, GPUMON_TOPIC_PREFIX: prefix } });
  expect(topics.status, topics.stderr).toBe(0);
});

afterAll(async () => {
  await removeTopics(kafka, registry, prefix);
  rmSync(work, { recursive: true, force: true });
});

describe('the standalone gpumon-agent', () => {
  it('sends a round of samples to Kafka with no Node and no node_modules', async () => {
    const agent = spawnSync(EXECUTABLE, ['--once', '--nvidia-smi', FAKE_NVIDIA_SMI, '--attribution', 'false', '--hostname', hostname, '--state-dir', `${work}/state`], {
      cwd: work,
      encoding: 'utf8',
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([name]) => /^(KAFKA_|SCHEMA_REGISTRY_)/.test(name))),
        PATH: `${work}/bin`,
        FAKE_NVIDIA_SMI_XML: FIXTURE,
        GPUMON_TOPIC_PREFIX: prefix,
      },
    });
    expect(agent.status, agent.stderr).toBe(0);
    const codec = new TopicCodec(registry, 'samples', prefix);
    const samples = await readRecords<GpuSample>(kafka, codec, `package-${run}`, 2);
    expect(samples.map((sample) => `${sample.hostname} ${sample.gpu_uuid}`).sort()).toEqual([
      `${hostname} GPU-12345678-aaaa-bbbb-cccc-0123456789ab`,
      `${hostname} GPU-12345678-aaaa-bbbb-cccc-0123456789cd`,
    ]);
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as forward, createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { connectAdmin, createKafka, ensureTopics, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { topicName } from '@gpumon/schemas/topics';
import type { GpuHealth } from '@gpumon/schemas/types.generated';
import { provisionTopics, startCli } from './cli-process.js';
import { readRecords } from './read-topic.js';

/**
 * Only `gpumon topics` writes to the registry or creates topics. An agent and a processor run
 * against the real registry behind a proxy that records every request: after `gpumon topics`
 * they make GET requests only; before it they refuse to start, naming what is missing.
 */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FAKE_NVIDIA_SMI = `${REPO}producers/nvidia-smi/testdata/bin/nvidia-smi`;
const FIXTURE = `${REPO}producers/nvidia-smi/testdata/captured/dual_2070-v13.xml`;
const REGISTRY = new URL(loadConfig(registryOptions).schemaRegistryUrl);

const run = randomBytes(3).toString('hex');
const prefix = `e2e-privilege-${run}.`;
const hostname = `e2e-privilege-${run}`;
const work = mkdtempSync(`${tmpdir()}/gpumon-privilege-`);
const registry = createRegistryClient(loadConfig(registryOptions));
const kafka = createKafka(loadConfig(kafkaOptions), 'e2e-privilege');
const recorded: string[] = [];
let proxy: Server;
let env: Record<string, string>;

beforeAll(async () => {
  writeFileSync(`${work}/nvidia-smi.xml`, readFileSync(FIXTURE));
  proxy = createServer((incoming, outgoing) => {
    recorded.push(`${incoming.method} ${incoming.url}`);
    const upstream = forward(
      { host: REGISTRY.hostname, port: REGISTRY.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: REGISTRY.host } },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', (error) => outgoing.writeHead(502).end(String(error)));
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as { port: number };
  env = {
    GPUMON_TOPIC_PREFIX: prefix,
    SCHEMA_REGISTRY_URL: `http://127.0.0.1:${port}${REGISTRY.pathname}`,
    FAKE_NVIDIA_SMI_XML: `${work}/nvidia-smi.xml`,
  };
});

afterAll(async () => {
  proxy.close();
  rmSync(work, { recursive: true, force: true });
  await removeTopics(kafka, registry, prefix);
});

const agentArgs = ['agent', '--once', '--nvidia-smi', FAKE_NVIDIA_SMI, '--xid-source', 'none', '--attribution', 'false', '--hostname', hostname, '--state-dir', `${work}/state`];

describe('least privilege', () => {
  it('before `gpumon topics`, an agent and a processor refuse to start, naming the missing topic or subject and the command', async () => {
    const processor = startCli(['process', 'score-health', '--group', `e2e-privilege-${run}`], env);
    expect(await processor.exited, processor.output()).toBe(1);
    expect(processor.output()).toMatch(new RegExp(`topics ${topicName('samples', prefix)}, .*${topicName('dlq', prefix)} missing; create them with \`gpumon topics\``));

    // Topics made by hand, with no schemas: now the subject is what is missing.
    const admin = await connectAdmin(loadConfig(kafkaOptions), 'e2e-privilege');
    await ensureTopics(admin, loadConfig(kafkaOptions), [topicName('samples', prefix)]);
    await admin.disconnect();
    const agent = startCli(agentArgs, env);
    expect(await agent.exited, agent.output()).toBe(1);
    expect(agent.output()).toContain(`subject ${topicName('samples', prefix)}-value has no version with this build's samples schema; register it with \`gpumon topics\``);
    expect(recorded.filter((r) => !r.startsWith('GET '))).toEqual([]);
  });

  it('after `gpumon topics`, an agent sends and a processor reads and writes with GET requests to the registry only', async () => {
    await provisionTopics({ GPUMON_TOPIC_PREFIX: prefix });
    recorded.length = 0;
    const agent = startCli(agentArgs, env);
    expect(await agent.exited, agent.output()).toBe(0);
    const processor = startCli(['process', 'score-health', '--group', `e2e-privilege-${run}`], env);
    const health = await readRecords<GpuHealth>(kafka, new TopicCodec(registry, 'health', prefix), `e2e-privilege-${run}-read`, 2);
    expect(await processor.stop(), processor.output()).toBe(0);
    expect(health.map((h) => h.hostname)).toEqual([hostname, hostname]);
    expect(recorded.length).toBeGreaterThan(0);
    expect(recorded.filter((r) => !r.startsWith('GET '))).toEqual([]);
  });
});

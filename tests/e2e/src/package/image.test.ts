import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { scratchDatabase } from '@gpumon/migrations/scratch-database';
import type { GpuSample, GpuPrediction } from '@gpumon/schemas/types.generated';
import { provisionTopics } from '../cli-process.js';
import { readRecords } from '../read-topic.js';

/**
 * The image `npm run image` built, unpacked by packaging/test-image.sh into GPUMON_IMAGE_ROOTFS and
 * run with chroot as the image's user (65532), its entrypoint as the chart runs it: the agent sends
 * to the real Kafka, predict-failure (onnxruntime's native code and the committed model) scores
 * what it sent, and migrate (pg and the SQL files) builds a database.
 */
const ROOTFS = process.env.GPUMON_IMAGE_ROOTFS;
if (ROOTFS === undefined) throw new Error('GPUMON_IMAGE_ROOTFS is not set: run this test with packaging/test-image.sh');
/** chroot, found on this machine's PATH: the image's processes get a PATH of their own. */
const CHROOT = (process.env.PATH ?? '').split(':').map((dir) => `${dir}/chroot`).find((path) => existsSync(path)) ?? '/usr/sbin/chroot';
const ENTRYPOINT = ['/usr/local/bin/node', '/opt/gpumon/cli/bin/gpumon.js'];
const VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL('../../../../package.json', import.meta.url)), 'utf8')) as { version: string }).version;

const run = randomBytes(3).toString('hex');
const prefix = `image-${run}.`;
const hostname = `image-${run}`;
const registry = createRegistryClient(loadConfig(registryOptions));
const kafka = createKafka(loadConfig(kafkaOptions), 'image-test');
/** What the image's processes get: the connection settings and the test's topic prefix, nothing else of this machine. */
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => /^(KAFKA_|SCHEMA_REGISTRY_)/.test(name))),
  PATH: '/test/bin:/usr/local/bin:/usr/bin:/bin',
  GPUMON_TOPIC_PREFIX: prefix,
  GPUMON_METRICS_PORT: '0',
};

/** chroot's arguments that run `gpumon ARGS` in the image as its user. */
function inImage(args: string[]): string[] {
  return ['--userspec=65532:65532', ROOTFS!, ...ENTRYPOINT, ...args];
}

beforeAll(() => provisionTopics({ GPUMON_TOPIC_PREFIX: prefix }));
afterAll(() => removeTopics(kafka, registry, prefix));

describe('the gpumon image', () => {
  it('names its version and the Node it carries', () => {
    const version = spawnSync(CHROOT, inImage(['--version']), { encoding: 'utf8', env });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toMatch(new RegExp(`^gpumon ${VERSION.replaceAll('.', '\\.')} \\(Node 24\\.\\d+\\.\\d+, linux-x64\\)$`));
  });

  it('runs the agent into Kafka and predict-failure on what it sent', async () => {
    const agent = spawnSync(CHROOT, inImage(['agent', '--once', '--attribution', 'false', '--hostname', hostname, '--state-dir', '/tmp/agent-state']), {
      encoding: 'utf8', env: { ...env, FAKE_NVIDIA_SMI_XML: '/test/dual_2070-v13.xml' },
    });
    expect(agent.status, agent.stderr).toBe(0);
    const samples = await readRecords<GpuSample>(kafka, new TopicCodec(registry, 'samples', prefix), `image-samples-${run}`, 2);
    expect(samples.map((s) => `${s.hostname} ${s.gpu_uuid}`).sort()).toEqual([
      `${hostname} GPU-12345678-aaaa-bbbb-cccc-0123456789ab`,
      `${hostname} GPU-12345678-aaaa-bbbb-cccc-0123456789cd`,
    ]);

    const processor = spawn(CHROOT, inImage(['process', 'predict-failure', '--from-beginning', 'true', '--register-model', 'false']), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    processor.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    processor.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => processor.on('exit', resolve));
    try {
      const predictions = await readRecords<GpuPrediction>(kafka, new TopicCodec(registry, 'predictions', prefix), `image-predictions-${run}`, 2);
      expect(predictions.map((p) => p.gpu_uuid).sort(), output).toEqual(samples.map((s) => s.gpu_uuid).sort());
      for (const p of predictions) expect(p.probability).toBeGreaterThanOrEqual(0);
    } finally {
      processor.kill('SIGTERM');
    }
    expect(await exited, output).toBe(0);
  });

  it('migrates a database', async () => {
    const database = scratchDatabase();
    await database.create();
    try {
      const migrate = spawnSync(CHROOT, inImage(['migrate']), { encoding: 'utf8', env: { ...env, DATABASE_URL: database.settings.databaseUrl } });
      expect(migrate.status, migrate.stdout + migrate.stderr).toBe(0);
      const client = new pg.Client({ connectionString: database.settings.databaseUrl });
      await client.connect();
      try {
        const tables = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE tablename IN ('gpu_samples', 'gpu_devices', 'gpu_predictions')");
        expect(Number(tables.rows[0]!.n)).toBe(3);
      } finally {
        await client.end();
      }
    } finally {
      await database.drop();
    }
  });
});

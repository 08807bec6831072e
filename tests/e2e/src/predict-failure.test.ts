import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelManifest } from '@gpumon/predict-failure/manifest';
import { predictFailureOptions } from '@gpumon/predict-failure/options';
import { loadConfig } from '@gpumon/runtime/config';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import type { DeadLetter, GpuPrediction } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { eventually, provisionTopics, startCli } from './cli-process.js';
import { readRecords } from './read-topic.js';

/**
 * predict-failure as an operator starts it: it records its model in gpu_models and
 * gpu_feature_definitions once, however often it starts, dead-letters bad features and refuses
 * to start on a bad model.
 */
const run = randomBytes(3).toString('hex');
const env = { GPUMON_TOPIC_PREFIX: `e2e-${run}.` };
const committedPath = loadConfig(predictFailureOptions, { registerModel: 'false' }).model;
const committed = JSON.parse(readFileSync(committedPath, 'utf8')) as ModelManifest;
const dir = mkdtempSync(join(tmpdir(), 'gpumon-predict-'));
const pool = createPool(loadConfig(databaseOptions));
const version = `e2e-${run}`;
const kafka = createKafka(loadConfig(kafkaOptions, { topicPrefix: env.GPUMON_TOPIC_PREFIX }), 'e2e');
const registry = createRegistryClient(loadConfig(registryOptions));

/** The committed model under another version, in its own folder. */
function modelAs(modelVersion: string): string {
  const folder = mkdtempSync(join(dir, 'model-'));
  copyFileSync(join(dirname(committedPath), committed.onnx_file), join(folder, committed.onnx_file));
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ ...committed, version: modelVersion }));
  return join(folder, 'manifest.json');
}

async function startUntilConsuming(manifest: string): Promise<string> {
  const cli = startCli(['process', 'predict-failure', '--model', manifest, '--group', `e2e-${run}-predict`], env);
  await eventually('predict-failure consuming', async () => (cli.output().includes('consuming') ? true : undefined));
  expect(await cli.stop(), cli.output()).toBe(0);
  return cli.output();
}

beforeAll(() => provisionTopics(env));

afterAll(async () => {
  await pool.query('DELETE FROM gpu_feature_definitions WHERE model_version LIKE $1', [`e2e-${run}%`]);
  await pool.query('DELETE FROM gpu_models WHERE version LIKE $1', [`e2e-${run}%`]);
  await pool.end();
  rmSync(dir, { recursive: true, force: true });
  await removeTopics(kafka, registry, env.GPUMON_TOPIC_PREFIX);
});

describe('predict-failure and the model registry', () => {
  it('records its model and features at start, once however often it starts', async () => {
    const manifest = modelAs(version);
    await startUntilConsuming(manifest);
    const first = await pool.query('SELECT * FROM gpu_models WHERE name = $1 AND version = $2', [committed.name, version]);
    expect(first.rows).toHaveLength(1);
    expect(first.rows[0]).toMatchObject({
      sha256: committed.sha256, horizon_hours: committed.horizon_hours, threshold: committed.threshold,
      risk_bands: committed.risk_bands, metrics: committed.metrics, trained_at: new Date(committed.trained_at),
    });
    const features = await pool.query(
      'SELECT position, name, unit, description, source, reference FROM gpu_feature_definitions WHERE model_name = $1 AND model_version = $2 ORDER BY position',
      [committed.name, version]);
    expect(features.rows).toEqual(committed.features.map((f, position) => ({
      position, name: f.name, unit: f.unit, description: f.description, source: expect.stringContaining('gpu.samples.v1'), reference: f.reference,
    })));

    await startUntilConsuming(manifest);
    const again = await pool.query('SELECT * FROM gpu_models WHERE name = $1 AND version = $2', [committed.name, version]);
    expect(again.rows).toEqual(first.rows);
    const count = await pool.query('SELECT count(*)::int AS n FROM gpu_feature_definitions WHERE model_version = $1', [version]);
    expect(count.rows[0].n).toBe(committed.features.length);
  });

  it('refuses to start when the registry holds another model under its name and version', async () => {
    const taken = `${version}-taken`;
    await pool.query(
      `INSERT INTO gpu_models (name, version, sha256, horizon_hours, threshold, risk_bands, metrics, dataset, trained_at)
       VALUES ($1, $2, $3, 24, 0.5, '{}', '{}', '{}', now())`, [committed.name, taken, 'f'.repeat(64)]);
    const cli = startCli(['process', 'predict-failure', '--model', modelAs(taken)], env);
    expect(await cli.exited, cli.output()).toBe(2);
    expect(cli.output()).toContain(`gpu_models already holds ${committed.name} ${taken} with sha256 ${'f'.repeat(64)}, not this model's ${committed.sha256}: give a retrained model a new version`);
  });

  it('dead-letters a sample with a NaN feature, naming it, and predicts the next one on the same partition', async () => {
    const codec = new TopicCodec(registry, 'samples', env.GPUMON_TOPIC_PREFIX);
    await codec.lookup();
    const good = new SimulatedFleet({ seed: 9, hosts: 1, gpusPerHost: 1, hostPrefix: `e2e-${run}` }).sample(Date.now())[0]!;
    const bad = { ...good, features: { ...good.features!, temperature_max_1h: Number.NaN } };
    const producer = kafka.producer({ createPartitioner: keyPartitioner });
    await producer.connect();
    await producer.send({ topic: codec.topic, messages: [bad, good].map((sample) => ({ key: sample.gpu_uuid, value: codec.encode(sample) })) });
    await producer.disconnect();

    const cli = startCli(['process', 'predict-failure', '--register-model', 'false', '--group', `e2e-${run}-bad`], env);
    const [letter] = await readRecords<DeadLetter>(kafka, new TopicCodec(registry, 'dlq', env.GPUMON_TOPIC_PREFIX), `e2e-${run}-read-dlq`, 1);
    const [prediction] = await readRecords<GpuPrediction>(kafka, new TopicCodec(registry, 'predictions', env.GPUMON_TOPIC_PREFIX), `e2e-${run}-read-predictions`, 1);
    expect(await cli.stop(), cli.output()).toBe(0);
    expect(letter).toMatchObject({ component: 'predict-failure', source_topic: codec.topic, source_offset: 0, error_code: 'validation_failed' });
    expect(letter!.error_message).toContain(`GPU ${good.gpu_uuid}`);
    // Refused by the validation every consumer applies, before the model's own check of its features.
    expect(letter!.error_message).toContain('features.temperature_max_1h=NaN');
    expect(prediction).toMatchObject({ gpu_uuid: good.gpu_uuid, time: good.time, model_name: committed.name, model_version: committed.version });
  });

  it('refuses to start on a missing or altered model, saying which', async () => {
    const missing = startCli(['process', 'predict-failure', '--model', join(dir, 'nowhere', 'manifest.json')], env);
    expect(await missing.exited, missing.output()).toBe(2);
    expect(missing.output()).toMatch(/model manifest .*nowhere\/manifest\.json: ENOENT/);

    const altered = modelAs(`${version}-altered`);
    const onnx = join(dirname(altered), committed.onnx_file);
    const bytes = readFileSync(onnx);
    bytes.writeUInt8(bytes.readUInt8(100) ^ 0x01, 100);
    writeFileSync(onnx, bytes);
    const cli = startCli(['process', 'predict-failure', '--model', altered], env);
    expect(await cli.exited, cli.output()).toBe(2);
    expect(cli.output()).toMatch(/has sha256 [0-9a-f]{64}, but its manifest says [0-9a-f]{64}/);
  });
});

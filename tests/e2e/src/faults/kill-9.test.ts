import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { eventually, provisionTopics, type CliProcess } from '../cli-process.js';
import { LAYOUT, expectedRecords, startSimulator, startStage } from '../whole-pipeline.js';
import { faultRun, startStages, stopAll } from './fault-run.js';
import { countRows, expectEachRecordOnce, removeRows, tallyWhenCaughtUp } from './tally.js';

/**
 * SIGKILL, no goodbye: the sink with writes in flight and two processors with outputs in flight
 * (co-located: the one process running them all) die mid-stream and are started again in their consumer groups. Whatever they had done but not
 * committed is done again, and each table's key makes the replay add nothing.
 */
const run = faultRun('kill-9', 24);
const KILLED = ['sink', ...LAYOUT === 'split' ? ['score-health', 'predict-failure'] : ['processors']];
// The shortest the broker allows: the killed member's partitions move to its restart that soon.
const STAGE_ARGS = ['--session-timeout', '6s'];
const pool = createPool(loadConfig(databaseOptions));
const processes: CliProcess[] = [];

afterAll(async () => {
  const stuck = await stopAll(processes);
  await removeRows(pool, run.hosts);
  await pool.end();
  await removeTopics(createKafka(loadConfig(kafkaOptions), 'e2e-faults'), createRegistryClient(loadConfig(registryOptions)), run.env.GPUMON_TOPIC_PREFIX);
  expect(stuck, 'stages that did not stop on SIGTERM').toEqual([]);
});

describe('faults: kill -9', () => {
  it(`${KILLED.join(', ')} killed mid-stream and restarted: every record exactly once in every table`, async () => {
    const expected = await expectedRecords(run);
    await provisionTopics(run.env);
    const stages = await startStages(run, STAGE_ARGS);
    processes.push(...stages.values());
    const simulate = startSimulator(run);
    processes.push(simulate);

    const samples = expected.get('samples')!.length;
    await eventually('a quarter of the samples written, health and predictions flowing', async () => {
      const [written, health, predictions] = await Promise.all(['gpu_samples', 'gpu_health', 'gpu_predictions'].map((t) => countRows(pool, t, run.hosts)));
      return written! >= samples / 4 && health! > 0 && predictions! > 0 ? true : undefined;
    });
    expect(simulate.child.exitCode, 'the simulator is still sending').toBeNull();
    console.log(`faults/kill-9 killing ${KILLED.join(', ')} with ${await countRows(pool, 'gpu_samples', run.hosts)} of ${samples} samples written`);
    const killed = KILLED.map((stage) => stages.get(stage)!);
    for (const stage of killed) stage.child.kill('SIGKILL');
    for (const stage of killed) expect(await stage.exited).toBeNull();
    processes.push(...KILLED.map((stage) => startStage(run, stage, STAGE_ARGS)));

    expect(await simulate.exited, simulate.output()).toBe(0);
    expectEachRecordOnce('faults/kill-9', await tallyWhenCaughtUp(pool, run.hosts, expected));
  });
});

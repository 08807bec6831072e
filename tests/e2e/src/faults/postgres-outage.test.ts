import { afterAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { eventually, provisionTopics, startCli, type CliProcess } from '../cli-process.js';
import { privatePostgres, type PrivateService } from '../private-stack.js';
import { expectedRecords, startSimulator } from '../whole-pipeline.js';
import { expectStillRunning, faultRun, startStages, stopAll } from './fault-run.js';
import { countRows, expectEachRecordOnce, tallyWhenCaughtUp } from './tally.js';

/**
 * A private PostgreSQL stops for 30 s while the whole pipeline runs: the processors go on, the
 * sink keeps its batches unacknowledged and retries; once the database is back it writes them,
 * and every table holds each record once.
 */
const run = faultRun('postgres', 16);
const OUTAGE_MS = 30_000;
const processes: CliProcess[] = [];
let postgres: PrivateService | undefined;
let pool: pg.Pool | undefined;

afterAll(async () => {
  const stuck = await stopAll(processes);
  await pool?.end();
  await postgres?.remove();
  await removeTopics(createKafka(loadConfig(kafkaOptions), 'e2e-faults'), createRegistryClient(loadConfig(registryOptions)), run.env.GPUMON_TOPIC_PREFIX);
  expect(stuck, 'stages that did not stop on SIGTERM').toEqual([]);
});

describe('faults: PostgreSQL outage', () => {
  it(`PostgreSQL stopped ${OUTAGE_MS / 1000} s mid-stream: the sink pauses, recovers, and every table holds each record once`, async () => {
    const service = await privatePostgres();
    postgres = service;
    await service.up();
    const migrate = startCli(['migrate'], { DATABASE_URL: service.url });
    expect(await migrate.exited, migrate.output()).toBe(0);
    const db = createPool(loadConfig(databaseOptions, { databaseUrl: service.url }));
    pool = db;
    // Idle connections die with the server; the next query opens a new one.
    db.on('error', () => undefined);

    const expected = await expectedRecords(run);
    await provisionTopics(run.env);
    const stages = await startStages(run, [], { DATABASE_URL: service.url });
    processes.push(...stages.values());
    const simulate = startSimulator(run);
    processes.push(simulate);

    await eventually('samples arriving in the database', async () => ((await countRows(db, 'gpu_samples', run.hosts)) > 0 ? true : undefined));
    expect(simulate.child.exitCode, 'the simulator is still sending').toBeNull();
    await service.down();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await service.up();

    expect(await simulate.exited, simulate.output()).toBe(0);
    expectEachRecordOnce('faults/postgres-outage', await tallyWhenCaughtUp(db, run.hosts, expected));
    const sink = stages.get('sink')!;
    const retried = sink.output().match(/writing \d+ rows to gpu_\w+ failed, retrying/g) ?? [];
    // One line per pause, not per attempt: the attempts themselves are logged at debug level.
    console.log(`faults/postgres-outage sink: paused ${retried.length} time(s) while the database was down (logged "${retried[0] ?? 'none'} …")`);
    expect(retried.length, 'the sink says it is waiting for the database').toBeGreaterThan(0);
    expectStillRunning(stages);
  });
});

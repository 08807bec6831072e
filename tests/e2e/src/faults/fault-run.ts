import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { DeadLetter } from '@gpumon/schemas/types.generated';
import { eventually, type CliProcess } from '../cli-process.js';
import { STAGES, startStage, type PipelineRun } from '../whole-pipeline.js';

const DAY_MS = 86_400_000;

/** A pipeline run of one fault test, with `hosts`, the LIKE pattern of its host names. */
export interface FaultRun extends PipelineRun {
  hosts: string;
}

/**
 * A run of the whole pipeline for fault test `test`: its own topic prefix, consumer groups and
 * host names. 2 hosts × 8 GPUs, 60 readings each, 10 simulated minutes apart (so the scenario's
 * faults begin and there are anomalies, alerts and risky predictions to lose), from two days ago
 * (inside every table's retention); sent `rate` per second, so the fault lands mid-stream.
 */
export function faultRun(test: string, rate: number): FaultRun {
  const id = randomBytes(3).toString('hex');
  const hostPrefix = `e2e-faults-${test}-${id}`;
  return {
    env: { GPUMON_TOPIC_PREFIX: `${hostPrefix}.` }, hostPrefix, hosts: `${hostPrefix}-%`,
    seed: 7, intervalMs: 10 * 60_000, ticks: 60, rate,
    start: Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS,
  };
}

/** Waits until each process (by name) consumes, failing with the output of one that exited first. */
export async function awaitConsuming(processes: ReadonlyMap<string, CliProcess>): Promise<void> {
  await eventually('every stage consuming', async () => {
    const exited = [...processes].find(([, p]) => p.child.exitCode !== null);
    if (exited !== undefined) throw new Error(`${exited[0]} exited at start:\n${exited[1].output()}`);
    return [...processes.values()].every((p) => p.output().includes('consuming')) ? true : undefined;
  });
}

/**
 * Starts the sink and every processor, each with `args`, and waits until each one consumes, so
 * the stream that follows meets a running pipeline. By stage name (see STAGES).
 */
export async function startStages(run: Pick<PipelineRun, 'env'>, args: string[] = [], env: Record<string, string> = {}): Promise<Map<string, CliProcess>> {
  const stages = new Map(STAGES.map((stage) => [stage, startStage(run, stage, args, env)]));
  await awaitConsuming(stages);
  return stages;
}

/** Fails naming a stage that exited, with its output: every stage must ride the fault out. */
export function expectStillRunning(stages: ReadonlyMap<string, CliProcess>): void {
  for (const [stage, process] of stages) expect(process.child.exitCode, `${stage} exited:\n${process.output()}`).toBeNull();
}

/**
 * SIGTERM to every process, SIGKILL to any still running `graceMs` later, so a test's cleanup
 * (its private services above all) always goes on. Resolves with the commands that ignored
 * SIGTERM and the end of their logs, for the test to fail on once it has cleaned up.
 */
export async function stopAll(processes: readonly CliProcess[], graceMs = 30_000): Promise<string[]> {
  const stuck: string[] = [];
  await Promise.all(processes.map(async (process) => {
    const timer = setTimeout(() => {
      stuck.push(`${process.child.spawnargs.slice(2, 4).join(' ')}, whose log ends:\n${process.output().slice(-3000)}`);
      process.child.kill('SIGKILL');
    }, graceMs);
    await process.stop();
    clearTimeout(timer);
  }));
  return stuck;
}

/** Where a dead letter's record was and who refused it: `topic[partition]@offset component`. */
export const letterKey = (l: Pick<DeadLetter, 'component' | 'source_topic' | 'source_partition' | 'source_offset'>): string =>
  `${l.source_topic}[${l.source_partition}]@${l.source_offset} ${l.component}`;

/**
 * One letter per record and consumer, sorted by letterKey: a consumer that handles a batch again
 * writes its letters again, so one per record and consumer is the claim a test makes.
 */
export function distinctLetters(read: readonly DeadLetter[]): DeadLetter[] {
  return [...new Map(read.map((l) => [letterKey(l), l])).values()].sort((a, b) => letterKey(a).localeCompare(letterKey(b)));
}

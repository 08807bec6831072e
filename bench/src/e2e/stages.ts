import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NODE_HEAP_ARGS, NODE_PROCESS_ENV } from '@gpumon/runtime/node-heap';

const CLI = fileURLToPath(new URL('../../../cli/bin/gpumon.js', import.meta.url));

/** One gpumon process of the pipeline under test, started as the demo starts it. */
export interface Stage {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/**
 * GPUMON_BENCH_STAGE_NODE_ARGS gives every stage node flags, {stage} standing for its name, e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof --cpu-prof-name={stage}.cpuprofile" (a stage stopped by
 * SIGTERM exits through process.exit, which writes the profile).
 */
function stageNodeArgs(name: string): string[] {
  return (process.env.GPUMON_BENCH_STAGE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '').map((a) => a.replaceAll('{stage}', name));
}

export function startStage(name: string, args: string[], env: Record<string, string>): Stage {
  const child = spawn(process.execPath, [...NODE_HEAP_ARGS, ...stageNodeArgs(name), CLI, ...args], { env: { ...process.env, ...NODE_PROCESS_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // The last 64 KB of its log, for the error when it dies.
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-65_536);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { name, child, output: () => output, exited };
}

/** Peak resident memory of a running process so far (VmHWM), in MB; 0 once it is gone. */
export function peakRssMb(pid: number): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Math.round(Number(kb) / 1024);
  } catch {
    return 0;
  }
}

export function assertRunning(stages: readonly Stage[]): void {
  const dead = stages.find((s) => s.child.exitCode !== null);
  if (dead !== undefined) throw new Error(`${dead.name} exited with ${dead.child.exitCode}:\n${dead.output()}`);
}

export async function stopStages(stages: readonly Stage[]): Promise<void> {
  for (const stage of stages) if (stage.child.exitCode === null) stage.child.kill('SIGTERM');
  await Promise.all(stages.map((s) => s.exited));
}

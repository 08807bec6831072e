import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { parse } from '@gpumon/runtime/config';
import type { OffsetsAdmin } from '@gpumon/runtime/kafka';
import { NODE_HEAP_ARGS, NODE_PROCESS_ENV } from '@gpumon/runtime/node-heap';
import type { Logger } from '@gpumon/runtime/log';
import { simulatorOptions } from '@gpumon/simulator/options';
import { STREAMS } from '@gpumon/schemas/topics';
import { PROCESSOR_LAYOUTS, type ProcessorLayout } from './components.js';
import { formatStatus, readStatus } from './pipeline-status.js';

export const demoOptions = {
  duration: {
    env: 'GPUMON_DEMO_DURATION', flag: 'duration', example: '60s',
    description: 'Stop the demo by itself after this long (default: run until Ctrl-C).', schema: parse.durationMs().optional(),
  },
  hosts: {
    ...simulatorOptions.hosts, env: 'GPUMON_DEMO_HOSTS', default: '128', example: '16',
    description: 'Number of hosts in the simulated fleet, 8 GPUs each.',
  },
  interval: { ...simulatorOptions.interval, env: 'GPUMON_DEMO_INTERVAL', default: '5s' },
  processors: {
    env: 'GPUMON_DEMO_PROCESSORS', flag: 'processors', default: 'co-located', example: 'split',
    description: 'How the processors run: co-located, all on one consumer (gpumon process all, one decode per sample), or split, each its own process (gpumon process <name>); docs/scaling.md.',
    schema: parse.oneOf(PROCESSOR_LAYOUTS),
  },
} as const;

const BIN = fileURLToPath(new URL('../bin/gpumon.js', import.meta.url));

export interface DemoStage {
  name: string;
  args: string[];
}

interface Child {
  stage: DemoStage;
  process: ChildProcess;
  log: string;
  exited: Promise<number | null>;
}

function startChild(stage: DemoStage, logDir: string): Child {
  const log = `${logDir}/${stage.name}.log`;
  const out = createWriteStream(log, { flags: 'a' });
  const child = spawn(process.execPath, [...NODE_HEAP_ARGS, BIN, ...stage.args], { env: { ...process.env, ...NODE_PROCESS_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { stage, process: child, log, exited };
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Runs every stage as its own process, prints a live status line, and stops them all (SIGTERM,
 * then waits for their clean exit) after `durationMs` or on Ctrl-C. Resolves to the exit code.
 */
export async function runDemo(options: {
  stages: DemoStage[];
  /** How the processors among `stages` run: which consumer groups the status line follows. */
  layout: ProcessorLayout;
  durationMs: number | undefined;
  logDir: string;
  admin: OffsetsAdmin;
  pool: pg.Pool;
  topicPrefix: string;
  log: Logger;
}): Promise<number> {
  const { log } = options;
  mkdirSync(options.logDir, { recursive: true });
  const children = options.stages.map((stage) => startChild(stage, options.logDir));
  log.info('started', Object.fromEntries(children.map((c) => [c.stage.name, `pid ${c.process.pid}, log ${c.log}`])));

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let failed: Child | undefined;
  for (const child of children) {
    void child.exited.then(() => {
      if (!stop.signal.aborted) {
        failed = child;
        stop.abort();
      }
    });
  }
  const started = Date.now();
  const deadline = options.durationMs === undefined ? Infinity : started + options.durationMs;
  const tty = process.stdout.isTTY === true;
  // Rates over the last ~10 s: producers send in bursts once per interval, so 2 s deltas flicker.
  const history = [await readStatus(options.admin, options.pool, options.topicPrefix, STREAMS)];
  while (!stop.signal.aborted && Date.now() < deadline) {
    await sleep(Math.min(2000, Math.max(0, deadline - Date.now())), undefined, { signal: stop.signal }).catch(() => undefined);
    if (stop.signal.aborted) break;
    const current = await readStatus(options.admin, options.pool, options.topicPrefix, STREAMS);
    const elapsed = Math.round((Date.now() - started) / 1000);
    const line = `[${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}] ${formatStatus(history[0]!, current, options.layout)}`;
    process.stdout.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    history.push(current);
    while (history.length > 1 && current.at - history[0]!.at > 10_000) history.shift();
  }
  if (tty) process.stdout.write('\n');

  log.info('stopping the pipeline');
  stop.abort();
  for (const child of children) child.process.kill('SIGTERM');
  const codes = await Promise.all(children.map((c) => c.exited));
  if (failed !== undefined) {
    process.stderr.write(`gpumon demo: ${failed.stage.name} exited on its own; last lines of ${failed.log}:\n${tail(failed.log)}\n`);
    return 1;
  }
  const unclean = children.filter((_, i) => codes[i] !== 0);
  for (const child of unclean) process.stderr.write(`gpumon demo: ${child.stage.name} did not stop cleanly; see ${child.log}\n`);
  return unclean.length === 0 ? 0 : 1;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built gpumon CLI, run the way a user runs it; test.sh builds it before the tests. */
const BIN = fileURLToPath(new URL('../../../cli/bin/gpumon.js', import.meta.url));

export interface CliProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code of the clean stop. */
  stop(): Promise<number | null>;
}

/**
 * Runs the built `gpumon` with `env` over this process's environment. Its metrics endpoint is off
 * unless `env` names a port: tests start several processes of one component, which would all want
 * its default port.
 */
export function startCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, GPUMON_METRICS_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The admin step before any stage runs: `gpumon topics` creates the topics and registers the schemas (stages only look them up). */
export async function provisionTopics(env: Record<string, string>): Promise<void> {
  const topics = startCli(['topics'], env);
  const code = await topics.exited;
  if (code !== 0) throw new Error(`gpumon topics exited with ${code}:\n${topics.output()}`);
}

/**
 * Polls `check` until it returns a value or `timeoutMs` passes; on time-out the error carries what
 * `diagnose` says (the logs of the processes involved, say), so a rare failure explains itself.
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, diagnose?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${diagnose === undefined ? '' : `\n${diagnose()}`}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The counters a component logs as it stops cleanly (`stopped received=… sent=… errored=… dropped=…`). */
export function stoppedCounters(output: string): Record<string, number> {
  const line = /stopped (received=\d+.*)/.exec(output)?.[1] ?? '';
  return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map(([, k, v]) => [k, Number(v)]));
}

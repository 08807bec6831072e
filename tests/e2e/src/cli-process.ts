import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './cleanup.js';

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

/**
 * Runs the built `gpumon` (as startCli) with its metrics endpoint on a free port, once it says it
 * serves there. A port found free can be taken before the child binds it, by another test file's
 * process or a connection's local port; reading it then reads someone else's metrics, as when a
 * killed instance's partner never started and its port answered for another sink. A child that
 * could not listen gets another port.
 */
export async function startCliServing(args: string[], env: Record<string, string>): Promise<{ cli: CliProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const cli = startCli(args, { ...env, GPUMON_METRICS_PORT: String(port) });
    // One that neither serves nor exits in time is stopped: nothing else would stop it.
    const serving = await eventually(`gpumon ${args.join(' ')} serving metrics on port ${port}`, async () => {
      if (new RegExp(`serving /metrics.* port=${port}\\b`).test(cli.output())) return true;
      return cli.child.exitCode === null ? undefined : false;
    }, 30_000, cli.output).catch(async (error: unknown) => {
      await cli.stop();
      throw error;
    });
    if (serving) return { cli, port };
    if (attempt === 3 || !cli.output().includes('cannot listen on')) throw new Error(`gpumon ${args.join(' ')} exited before serving metrics on port ${port}:\n${cli.output()}`);
  }
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

/**
 * One series of a process's /metrics: `series` as printed (`name{label="value"}`), or a bare name
 * for its first series whatever its labels. NaN while the endpoint does not answer or lacks the
 * series, so no comparison a test waits on passes by accident.
 */
export async function metricValue(port: number, series: string): Promise<number> {
  const text = await fetch(`http://localhost:${port}/metrics`).then((r) => r.text(), () => '');
  const name = series.replace(/[{}()[\]\\.*+?^$|]/g, '\\$&');
  const pattern = series.includes('{') ? name : `${name}(?:\\{[^}]*\\})?`;
  return Number(new RegExp(`^${pattern} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text)?.[1] ?? NaN);
}

/** The counters a component logs as it stops cleanly (`stopped received=… sent=… errored=… dropped=…`). */
export function stoppedCounters(output: string): Record<string, number> {
  const line = /stopped (received=\d+.*)/.exec(output)?.[1] ?? '';
  return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map(([, k, v]) => [k, Number(v)]));
}

import type { Command } from 'commander';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import type { Logger } from '@gpumon/runtime/log';

export interface Stoppable {
  stop(): Promise<void>;
  done: Promise<void>;
}

/**
 * Runs a long-lived component until SIGTERM or SIGINT, then stops it gracefully (finish the batch,
 * commit, leave the group). A second signal exits at once.
 */
export async function runUntilSignal(start: () => Promise<Stoppable>, log: Logger): Promise<void> {
  const component = await start();
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping !== undefined) {
      log.warn(`second ${signal}: exiting without a clean stop`);
      process.exit(130);
    }
    log.info(`${signal}: stopping`);
    stopping = component.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await component.done.catch((error: unknown) => {
    // Failed for good: its metrics server and broker connections would keep the process up,
    // answering and doing nothing, where its supervisor should restart it. The exit comes once the
    // command has reported the error (a timer runs after the promise callbacks that report it).
    setTimeout(() => process.exit(), 0).unref();
    throw error;
  });
  if (stopping === undefined) return;
  await stopping;
  // Stopped cleanly: everything handled is committed. A broker connection that kafkajs orphaned in
  // a crash it recovered from (it reconnects on its own timer) must not keep the process alive.
  process.exit(process.exitCode ?? 0);
}

/** One clear line for the errors gpumon knows; the stack too only for the ones it does not. */
export function reportFatal(command: string, error: unknown): number {
  if (error instanceof GpumonError) {
    process.stderr.write(`gpumon ${command}: ${error.message}\n`);
    return error.code === 'config_invalid' ? 2 : 1;
  }
  process.stderr.write(`gpumon ${command}: ${errorMessage(error)}\n${error instanceof Error ? error.stack ?? '' : ''}\n`);
  return 1;
}

/** A component that runs until its signal aborts, as a Stoppable. */
export function abortable(run: (signal: AbortSignal) => Promise<unknown>): () => Promise<Stoppable> {
  return async () => {
    const controller = new AbortController();
    const done = run(controller.signal).then(() => undefined);
    return { done, stop: async () => { controller.abort(); await done; } };
  };
}

/** Wraps a command's action so a failure prints one clear line and sets the exit code. */
export function action(name: string, body: (command: Command, ...args: string[]) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args[args.length - 1] as Command;
    try {
      await body(command, ...(args.slice(0, -2) as string[]));
    } catch (error) {
      process.exitCode = reportFatal(name, error);
    }
  };
}

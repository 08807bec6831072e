import { spawn } from 'node:child_process';
import { GpumonError } from '@gpumon/runtime/errors';

export interface CommandOptions {
  command: string;
  args: readonly string[];
  timeoutMs: number;
}

/**
 * Runs a command and resolves with its whole stdout (no size cap: an 8-GPU host with many
 * processes prints megabytes). A command that outlives `timeoutMs` is killed with SIGKILL together
 * with everything it started: nvidia-smi hangs in the driver and ignores gentler signals, and a
 * wrapper script's children would otherwise keep running.
 *
 * Failures: missing command → config_invalid; timeout, non-zero exit or a signal → service_unreachable
 * (the next collection may succeed, e.g. once the driver answers again).
 */
export function runCommand({ command, args, timeoutMs }: CommandOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let settled = false;
    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      action();
    };

    const timer = setTimeout(() => {
      settle(() => {
        killGroup(child.pid);
        // Don't wait for 'close': a descendant that escaped the group could hold the pipes open.
        child.stdout.destroy();
        child.stderr.destroy();
        reject(new GpumonError('service_unreachable', `${command} timed out after ${timeoutMs} ms and was killed`));
      });
    }, timeoutMs);

    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      settle(() => {
        if (error.code === 'ENOENT') {
          reject(new GpumonError('config_invalid', `${command} not found (is it installed and on PATH?)`, { cause: error }));
        } else {
          reject(new GpumonError('service_unreachable', `${command} could not be started: ${error.message}`, { cause: error }));
        }
      });
    });
    child.on('close', (code, signal) => {
      settle(() => {
        if (code === 0) {
          resolve(Buffer.concat(stdout).toString('utf8'));
          return;
        }
        const firstLine = Buffer.concat(stderr).toString('utf8').split('\n').find((line) => line.trim() !== '')?.trim();
        const how = code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with code ${code}`;
        reject(new GpumonError('service_unreachable', `${command} ${how}${firstLine ? `: ${firstLine}` : ''}`));
      });
    });
  });
}

/** The child leads its own process group (detached), so a negative pid reaches it and its descendants. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

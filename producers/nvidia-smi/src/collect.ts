import { runCommand } from './run-command.js';

export interface CollectOptions {
  /** Default `nvidia-smi`. */
  command?: string;
  /** Default `-q -x`. */
  args?: string[];
  /** Default 5000 ms. */
  timeoutMs?: number;
}

/** The XML of `nvidia-smi -q -x`, or a GpumonError naming the command and what went wrong. */
export function collectNvidiaSmiXml(options: CollectOptions = {}): Promise<string> {
  return runCommand({
    command: options.command ?? 'nvidia-smi',
    args: options.args ?? ['-q', '-x'],
    timeoutMs: options.timeoutMs ?? 5000,
  });
}

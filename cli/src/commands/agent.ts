import { Command } from 'commander';
import { runAgent } from '@gpumon/nvidia-smi/agent';
import { agentOptions } from '@gpumon/nvidia-smi/agent-options';
import { createLogger } from '@gpumon/runtime/log';
import { pipelineOptions } from '@gpumon/runtime/pipeline';
import { abortable, action, runUntilSignal } from '../lifecycle.js';
import { settingsOf, withOptions } from '../options.js';

/** `gpumon agent`, and the whole of the standalone `gpumon-agent`: this module imports only what the agent runs. */
export function define(command: Command): void {
  withOptions(command, pipelineOptions, agentOptions).action(action('agent', async (command) => {
    const settings = settingsOf(command, { ...pipelineOptions, ...agentOptions });
    const log = createLogger('agent');
    await runUntilSignal(abortable((signal) => runAgent(settings, log, signal)), log);
  }));
}

/** The standalone `gpumon-agent` (packaging/): the agent command as a program of its own, `--version` printing the package's version. */
export function standaloneAgent(version: string): Command {
  const program = new Command('gpumon-agent')
    .description('Read every GPU of this host (nvidia-smi) and Xid events into gpu.samples.v1.')
    .version(version)
    .showHelpAfterError();
  define(program);
  return program;
}

import type { Command } from 'commander';
import { runAgent } from '@gpumon/nvidia-smi/agent';
import { agentOptions } from '@gpumon/nvidia-smi/agent-options';
import { createLogger } from '@gpumon/runtime/log';
import { pipelineOptions } from '@gpumon/runtime/pipeline';
import { abortable, action, runUntilSignal } from '../lifecycle.js';
import { settingsOf, withOptions } from '../options.js';

/** `gpumon agent`; also the whole of the standalone `gpumon-agent` (packaging/), so it imports only what the agent runs. */
export function define(command: Command): void {
  withOptions(command, pipelineOptions, agentOptions).action(action('agent', async (command) => {
    const settings = settingsOf(command, { ...pipelineOptions, ...agentOptions });
    const log = createLogger('agent');
    await runUntilSignal(abortable((signal) => runAgent(settings, log, signal)), log);
  }));
}

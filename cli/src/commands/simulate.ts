import type { Command } from 'commander';
import { createLogger } from '@gpumon/runtime/log';
import { pipelineOptions } from '@gpumon/runtime/pipeline';
import { simulatorOptions } from '@gpumon/simulator/options';
import { runSimulator } from '@gpumon/simulator/run';
import { abortable, action, runUntilSignal } from '../lifecycle.js';
import { settingsOf, withOptions } from '../options.js';

export function define(command: Command): void {
  withOptions(command, pipelineOptions, simulatorOptions).action(action('simulate', async (command) => {
    const settings = settingsOf(command, { ...pipelineOptions, ...simulatorOptions });
    const log = createLogger('simulator');
    await runUntilSignal(abortable((signal) => runSimulator(settings, log, signal)), log);
  }));
}

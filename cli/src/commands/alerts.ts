import type { Command } from 'commander';
import { createLogger } from '@gpumon/runtime/log';
import { pipelineOptions } from '@gpumon/runtime/pipeline';
import { alertmanagerOptions } from '@gpumon/sink-alertmanager/options';
import { runAlertForwarder } from '@gpumon/sink-alertmanager/run';
import { action, runUntilSignal } from '../lifecycle.js';
import { settingsOf, withOptions } from '../options.js';

export function define(command: Command): void {
  withOptions(
    command.command('forward').description('Post gpu.alerts.v1 to an Alertmanager-compatible API, committing only what it accepted.'),
    pipelineOptions, alertmanagerOptions,
  ).action(action('alerts forward', async (command) => {
    const settings = settingsOf(command, { ...pipelineOptions, ...alertmanagerOptions });
    const log = createLogger('alerts-forward');
    await runUntilSignal(() => runAlertForwarder(settings, log), log);
  }));
}

import type { Command } from 'commander';
import { databaseOptions } from '@gpumon/runtime/database';
import { createLogger } from '@gpumon/runtime/log';
import { pipelineOptions } from '@gpumon/runtime/pipeline';
import { sinkOptions } from '@gpumon/sink-timescaledb/options';
import { runSink } from '@gpumon/sink-timescaledb/run';
import { action, runUntilSignal } from '../lifecycle.js';
import { settingsOf, withOptions } from '../options.js';

export function define(command: Command): void {
  withOptions(command, pipelineOptions, databaseOptions, sinkOptions).action(action('sink', async (command) => {
    const settings = settingsOf(command, { ...pipelineOptions, ...databaseOptions, ...sinkOptions });
    const log = createLogger('sink-timescaledb');
    await runUntilSignal(() => runSink(settings, log), log);
  }));
}

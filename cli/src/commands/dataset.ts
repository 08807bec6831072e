import type { Command } from 'commander';
import { createLogger } from '@gpumon/runtime/log';
import { datasetOptions } from '@gpumon/simulator/dataset/options';
import { writeDataset } from '@gpumon/simulator/dataset/write-dataset';
import { action } from '../lifecycle.js';
import { settingsOf, withOptions } from '../options.js';

export function define(command: Command): void {
  withOptions(command, datasetOptions).action(action('dataset', async (command) => {
    await writeDataset(settingsOf(command, datasetOptions), createLogger('dataset'));
  }));
}

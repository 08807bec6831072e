import type { Command } from 'commander';
import { createLogger } from '@gpumon/runtime/log';
import { openPipeline, pipelineOptions } from '@gpumon/runtime/pipeline';
import { STREAMS } from '@gpumon/schemas/topics';
import { action } from '../lifecycle.js';
import { settingsOf, withOptions } from '../options.js';

export function define(command: Command): void {
  withOptions(command, pipelineOptions).action(action('topics', async (command) => {
    const log = createLogger('topics');
    const pipeline = await openPipeline(settingsOf(command, pipelineOptions), 'gpumon-topics', STREAMS, log, 'provision');
    for (const codec of Object.values(pipeline.codecs)) console.log(`${codec.topic}  (schema subject ${codec.subject})`);
    await pipeline.close();
  }));
}

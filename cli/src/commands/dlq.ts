import type { Command } from 'commander';
import { createLogger } from '@gpumon/runtime/log';
import { openPipeline, pipelineOptions } from '@gpumon/runtime/pipeline';
import { dlqInspectOptions, inspectDeadLetters } from '../dlq-inspect.js';
import { action } from '../lifecycle.js';
import { settingsOf, withOptions } from '../options.js';

export function define(command: Command): void {
  withOptions(
    command.command('inspect')
      .description('Print the dead letters of gpu.dlq.v1 readably: when, which component, source topic/partition/offset, the reason, the original bytes.'),
    pipelineOptions, dlqInspectOptions,
  ).action(action('dlq inspect', async (command) => {
    const settings = settingsOf(command, { ...pipelineOptions, ...dlqInspectOptions });
    const pipeline = await openPipeline(settings, 'gpumon-dlq-inspect', [], createLogger('dlq'));
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    try {
      const shown = await inspectDeadLetters(pipeline, pipeline.codecs.dlq, settings, stop.signal);
      console.error(`${shown} dead letter${shown === 1 ? '' : 's'} on ${pipeline.codecs.dlq.topic}`);
    } finally {
      await pipeline.close();
    }
  }));
}

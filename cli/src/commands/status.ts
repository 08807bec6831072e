import type { Command } from 'commander';
import { describeChunksBeingWritten, readChunksBeingWritten } from '@gpumon/migrations/chunks-being-written';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createLogger } from '@gpumon/runtime/log';
import { describeEdition, readTimescaleEdition } from '@gpumon/runtime/timescale-edition';
import { openPipeline, pipelineOptions } from '@gpumon/runtime/pipeline';
import { STREAMS } from '@gpumon/schemas/topics';
import { action } from '../lifecycle.js';
import { settingsOf, withOptions } from '../options.js';
import { formatStatus, layoutInUse, readStatus } from '../pipeline-status.js';

export function define(command: Command): void {
  withOptions(command, pipelineOptions, databaseOptions).action(action('status', async (command) => {
    const settings = settingsOf(command, { ...pipelineOptions, ...databaseOptions });
    const pipeline = await openPipeline(settings, 'gpumon-status', [], createLogger('status'));
    const pool = createPool(settings, 1);
    try {
      const first = await readStatus(pipeline.admin, pool, settings.topicPrefix ?? '', STREAMS);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const second = await readStatus(pipeline.admin, pool, settings.topicPrefix ?? '', STREAMS);
      console.log(formatStatus(first, second, layoutInUse(second)));
      // Which edition decides whether compression and the continuous aggregates exist (docs/storage.md).
      console.log(await readTimescaleEdition(pool).then(describeEdition, (error: unknown) => `TimescaleDB: unknown (${String(error)})`));
      // Whether the chunks being written will fit in memory at this rate (docs/retention.md).
      console.log(await readChunksBeingWritten(pool).then(describeChunksBeingWritten, (error: unknown) => `chunks being written: unknown (${String(error)})`));
    } finally {
      await pool.end();
      await pipeline.close();
    }
  }));
}

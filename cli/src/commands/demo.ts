import type { Command } from 'commander';
import { migrate } from '@gpumon/migrations/migrate';
import { checkDatabase, createPool, databaseOptions } from '@gpumon/runtime/database';
import { createLogger } from '@gpumon/runtime/log';
import { openPipeline, pipelineOptions } from '@gpumon/runtime/pipeline';
import { STREAMS } from '@gpumon/schemas/topics';
import { consumerStages } from '../components.js';
import { demoOptions, runDemo } from '../demo.js';
import { nextSteps } from '../next-steps.js';
import { action } from '../lifecycle.js';
import { settingsOf, withOptions } from '../options.js';
import { REPO_ROOT } from '../repo-root.js';

export function define(command: Command): void {
  withOptions(command, demoOptions).action(action('demo', async (command) => {
    const demo = settingsOf(command, demoOptions);
    const settings = settingsOf(command, { ...pipelineOptions, ...databaseOptions });
    const log = createLogger('demo');
    const pool = createPool(settings, 2);
    await checkDatabase(pool, settings);
    await migrate(settings, log);
    const pipeline = await openPipeline(settings, 'gpumon-demo', STREAMS, log, 'provision');
    try {
      process.exitCode = await runDemo({
        stages: [
          ...consumerStages(demo.processors).map(({ name, args }) => ({ name, args: [...args] })),
          { name: 'simulate', args: ['simulate', '--hosts', String(demo.hosts), '--interval', `${demo.interval}ms`] },
        ],
        layout: demo.processors,
        durationMs: demo.duration,
        logDir: `${process.env.GPUMON_HOME ?? `${REPO_ROOT}.gpumon`}/logs/demo`,
        admin: pipeline.admin,
        pool,
        topicPrefix: settings.topicPrefix ?? '',
        log,
      });
      if (process.exitCode === 0) process.stdout.write(nextSteps(settings.databaseUrl, REPO_ROOT));
    } finally {
      await pipeline.close();
      await pool.end();
    }
  }));
}

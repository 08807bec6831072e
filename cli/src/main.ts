import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { detectAnomaliesProcessor } from '@gpumon/detect-anomalies/processor';
import { migrate } from '@gpumon/migrations/migrate';
import { predictFailureProcessor } from '@gpumon/predict-failure/processor';
import { priceUsageProcessor } from '@gpumon/price-usage/processor';
import { runAgent } from '@gpumon/nvidia-smi/agent';
import { agentOptions } from '@gpumon/nvidia-smi/agent-options';
import type { ConfigSpec } from '@gpumon/runtime/config';
import { checkDatabase, createPool, databaseOptions } from '@gpumon/runtime/database';
import { createLogger } from '@gpumon/runtime/log';
import { openPipeline, pipelineOptions } from '@gpumon/runtime/pipeline';
import { processorOptions, runProcessor, type EnrichedStream, type ProcessorDefinition } from '@gpumon/runtime/processor';
import { STREAMS, type Stream } from '@gpumon/schemas/topics';
import { scoreHealthProcessor } from '@gpumon/score-health/processor';
import { datasetOptions } from '@gpumon/simulator/dataset/options';
import { writeDataset } from '@gpumon/simulator/dataset/write-dataset';
import { simulatorOptions } from '@gpumon/simulator/options';
import { runSimulator } from '@gpumon/simulator/run';
import { alertmanagerOptions } from '@gpumon/sink-alertmanager/options';
import { runAlertForwarder } from '@gpumon/sink-alertmanager/run';
import { sinkOptions } from '@gpumon/sink-timescaledb/options';
import { runSink } from '@gpumon/sink-timescaledb/run';
import { demoOptions, runDemo } from './demo.js';
import { dlqInspectOptions, inspectDeadLetters } from './dlq-inspect.js';
import { abortable, reportFatal, runUntilSignal } from './lifecycle.js';
import { settingsOf, withOptions } from './options.js';
import { formatStatus, readStatus } from './pipeline-status.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));


/** Wraps a command's action so a failure prints one clear line and sets the exit code. */
function action(name: string, body: (command: Command, ...args: string[]) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args[args.length - 1] as Command;
    try {
      await body(command, ...(args.slice(0, -2) as string[]));
    } catch (error) {
      process.exitCode = reportFatal(name, error);
    }
  };
}

const program = new Command('gpumon')
  .description('GPU fleet telemetry: producers, processors and the TimescaleDB sink of the gpumon pipeline.')
  .showHelpAfterError();

withOptions(program.command('agent').description('Read every GPU of this host (nvidia-smi) and Xid events into gpu.samples.v1.'), pipelineOptions, agentOptions)
  .action(action('agent', async (command) => {
    const settings = settingsOf(command, { ...pipelineOptions, ...agentOptions });
    const log = createLogger('agent');
    await runUntilSignal(abortable((signal) => runAgent(settings, log, signal)), log);
  }));

withOptions(program.command('simulate').description('Stream a simulated GPU fleet to gpu.samples.v1.'), pipelineOptions, simulatorOptions)
  .action(action('simulate', async (command) => {
    const settings = settingsOf(command, { ...pipelineOptions, ...simulatorOptions });
    const log = createLogger('simulator');
    await runUntilSignal(abortable((signal) => runSimulator(settings, log, signal)), log);
  }));

withOptions(program.command('dataset').description('Write a labelled training dataset: the simulated fleet on a simulated clock through the edge feature engine, to gzipped CSV.'), datasetOptions)
  .action(action('dataset', async (command) => {
    await writeDataset(settingsOf(command, datasetOptions), createLogger('dataset'));
  }));

const processCommand = program.command('process').description('Run one stream processor.');
function addProcessCommand<I extends Stream, O extends EnrichedStream, C extends ConfigSpec>(definition: ProcessorDefinition<I, O, C>): void {
  withOptions(processCommand.command(definition.name).description(definition.description), pipelineOptions, processorOptions, definition.options)
    .action(action(`process ${definition.name}`, async (command) => {
      const settings = settingsOf(command, { ...pipelineOptions, ...processorOptions, ...definition.options });
      const log = createLogger(definition.name);
      await runUntilSignal(() => runProcessor(definition, settings, log), log);
    }));
}
addProcessCommand(scoreHealthProcessor);
addProcessCommand(detectAnomaliesProcessor);
addProcessCommand(priceUsageProcessor);
addProcessCommand(predictFailureProcessor);

withOptions(program.command('sink').description('Write gpumon topics into TimescaleDB.'), pipelineOptions, databaseOptions, sinkOptions)
  .action(action('sink', async (command) => {
    const settings = settingsOf(command, { ...pipelineOptions, ...databaseOptions, ...sinkOptions });
    const log = createLogger('sink-timescaledb');
    await runUntilSignal(() => runSink(settings, log), log);
  }));

withOptions(program.command('migrate').description('Apply pending database migrations (a no-op when there are none).'), databaseOptions)
  .action(action('migrate', async (command) => {
    const applied = await migrate(settingsOf(command, databaseOptions), createLogger('migrate'));
    console.log(applied.length === 0 ? 'database is up to date' : `applied ${applied.map((m) => m.name).join(', ')}`);
  }));

withOptions(program.command('topics').description('Create the missing gpumon topics and register their schemas.'), pipelineOptions)
  .action(action('topics', async (command) => {
    const log = createLogger('topics');
    const pipeline = await openPipeline(settingsOf(command, pipelineOptions), 'gpumon-topics', STREAMS, log, 'provision');
    for (const codec of Object.values(pipeline.codecs)) console.log(`${codec.topic}  (schema subject ${codec.subject})`);
    await pipeline.close();
  }));

withOptions(
  program.command('dlq').description('Dead letters: records a component could not process.').command('inspect')
    .description('Print the dead letters of gpu.dlq.v1 readably: when, which component, source topic/partition/offset, the reason, the original bytes.'),
  pipelineOptions, dlqInspectOptions,
).action(action('dlq inspect', async (command) => {
  const settings = settingsOf(command, { ...pipelineOptions, ...dlqInspectOptions });
  const pipeline = await openPipeline(settings, 'gpumon-dlq-inspect', [], createLogger('dlq'));
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  try {
    const shown = await inspectDeadLetters(pipeline.kafka, pipeline.codecs.dlq, settings, stop.signal);
    console.error(`${shown} dead letter${shown === 1 ? '' : 's'} on ${pipeline.codecs.dlq.topic}`);
  } finally {
    await pipeline.close();
  }
}));

withOptions(
  program.command('alerts').description('Alerts: gpu.alerts.v1.').command('forward')
    .description('Post gpu.alerts.v1 to an Alertmanager-compatible API, committing only what it accepted.'),
  pipelineOptions, alertmanagerOptions,
).action(action('alerts forward', async (command) => {
  const settings = settingsOf(command, { ...pipelineOptions, ...alertmanagerOptions });
  const log = createLogger('alerts-forward');
  await runUntilSignal(() => runAlertForwarder(settings, log), log);
}));

program
  .command('stack')
  .description('Install and run the local stack natively: Kafka, schema registry, PostgreSQL + TimescaleDB.')
  .argument('<action>', 'up | down | status | logs | reset')
  .argument('[service]', 'for logs: postgres, kafka or registry')
  .action((stackAction: string, service: string | undefined) => {
    const result = spawnSync('bash', [`${REPO_ROOT}infra/stack/stack.sh`, stackAction, ...(service ? [service] : [])], { stdio: 'inherit' });
    process.exitCode = result.status ?? 1;
  });

withOptions(program.command('status').description('Show records/s per stage, consumer lag, dead letters and failing GPUs of a running pipeline.'), pipelineOptions, databaseOptions)
  .action(action('status', async (command) => {
    const settings = settingsOf(command, { ...pipelineOptions, ...databaseOptions });
    const pipeline = await openPipeline(settings, 'gpumon-status', [], createLogger('status'));
    const pool = createPool(settings, 1);
    try {
      const first = await readStatus(pipeline.admin, pool, settings.topicPrefix ?? '', STREAMS);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      console.log(formatStatus(first, await readStatus(pipeline.admin, pool, settings.topicPrefix ?? '', STREAMS)));
    } finally {
      await pool.end();
      await pipeline.close();
    }
  }));

withOptions(program.command('demo').description('Run the whole pipeline locally with a simulated fleet and a live status line.'), demoOptions)
  .action(action('demo', async (command) => {
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
          { name: 'sink', args: ['sink'] },
          { name: 'score-health', args: ['process', 'score-health'] },
          { name: 'detect-anomalies', args: ['process', 'detect-anomalies'] },
          { name: 'price-usage', args: ['process', 'price-usage'] },
          { name: 'predict-failure', args: ['process', 'predict-failure'] },
          { name: 'simulate', args: ['simulate', '--hosts', String(demo.hosts), '--interval', `${demo.interval}ms`] },
        ],
        durationMs: demo.duration,
        logDir: `${process.env.GPUMON_HOME ?? `${REPO_ROOT}.gpumon`}/logs/demo`,
        admin: pipeline.admin,
        pool,
        topicPrefix: settings.topicPrefix ?? '',
        log,
      });
    } finally {
      await pipeline.close();
      await pool.end();
    }
  }));

await program.parseAsync();

import { Command } from 'commander';
import { versionLine } from '@gpumon/runtime/build-info';

/** What a command module gives: its options, arguments, subcommands and action, added to the command main made. */
interface CommandModule {
  define(command: Command): void;
}

/**
 * Every command, by name, with its one-line description. A command's module (and with it whatever
 * it runs: Kafka, pg, onnxruntime, the processors) is imported only when that command is invoked,
 * so `gpumon agent` loads the agent and nothing else.
 */
const COMMANDS: Array<{ name: string; description: string; load: () => Promise<CommandModule> }> = [
  { name: 'agent', description: 'Read every GPU of this host (nvidia-smi) and Xid events into gpu.samples.v1.', load: () => import('./commands/agent.js') },
  { name: 'simulate', description: 'Stream a simulated GPU fleet to gpu.samples.v1.', load: () => import('./commands/simulate.js') },
  { name: 'dataset', description: 'Write a labelled training dataset: the simulated fleet on a simulated clock through the edge feature engine, to gzipped CSV.', load: () => import('./commands/dataset.js') },
  { name: 'process', description: 'Run one stream processor, or several on one consumer (process all).', load: () => import('./commands/process.js') },
  { name: 'sink', description: 'Write gpumon topics into TimescaleDB.', load: () => import('./commands/sink.js') },
  { name: 'migrate', description: 'Apply pending database migrations (a no-op when there are none).', load: () => import('./commands/migrate.js') },
  { name: 'topics', description: 'Create the missing gpumon topics and register their schemas.', load: () => import('./commands/topics.js') },
  { name: 'dlq', description: 'Dead letters: records a component could not process.', load: () => import('./commands/dlq.js') },
  { name: 'alerts', description: 'Alerts: gpu.alerts.v1.', load: () => import('./commands/alerts.js') },
  { name: 'stack', description: 'Install and run the local stack natively: Kafka, schema registry, PostgreSQL + TimescaleDB.', load: () => import('./commands/stack.js') },
  { name: 'status', description: 'Show records/s per stage, consumer lag, dead letters and failing GPUs of a running pipeline.', load: () => import('./commands/status.js') },
  { name: 'demo', description: 'Run the whole pipeline locally with a simulated fleet and a live status line.', load: () => import('./commands/demo.js') },
];

const program = new Command('gpumon')
  .description('GPU fleet telemetry: producers, processors and the TimescaleDB sink of the gpumon pipeline.')
  .version(versionLine(), '-V, --version', 'print the release and the Node it runs on')
  .showHelpAfterError();

// `gpumon <command> …` and `gpumon help <command>` name the one command whose module is needed.
const [first, second] = process.argv.slice(2);
const invoked = first === 'help' ? second : first;
for (const { name, description, load } of COMMANDS) {
  const command = program.command(name).description(description);
  if (name === invoked) (await load()).define(command);
}

await program.parseAsync();

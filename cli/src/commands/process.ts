import type { Command } from 'commander';
import type { ConfigSpec } from '@gpumon/runtime/config';
import { createLogger } from '@gpumon/runtime/log';
import { pipelineOptions } from '@gpumon/runtime/pipeline';
import { COLOCATED_COMPONENT, colocatedProcessorOptions, processorOptions, runProcessor, runProcessors, type EnrichedStream, type ProcessorDefinition } from '@gpumon/runtime/processor';
import type { Stream } from '@gpumon/schemas/topics';
import { PROCESSOR_DEFINITIONS, colocatedOptions } from '../components.js';
import { action, runUntilSignal } from '../lifecycle.js';
import { settingsOf, withOptions } from '../options.js';

function addProcessCommand<I extends Stream, O extends EnrichedStream, C extends ConfigSpec>(
  processCommand: Command,
  definition: ProcessorDefinition<I, O, C>,
): void {
  withOptions(processCommand.command(definition.name).description(definition.description), pipelineOptions, processorOptions, definition.options)
    .action(action(`process ${definition.name}`, async (command) => {
      const settings = settingsOf(command, { ...pipelineOptions, ...processorOptions, ...definition.options });
      const log = createLogger(definition.name);
      await runUntilSignal(() => runProcessor(definition, settings, log), log);
    }));
}

/**
 * `gpumon process all`: the chosen processors on one consumer, each with its own settings (their
 * variables are distinct, so their specs merge), one decode per sample for them all.
 */
function addColocatedCommand(processCommand: Command): void {
  const own = Object.assign({}, ...PROCESSOR_DEFINITIONS.map((d) => d.options)) as ConfigSpec;
  const spec = { ...pipelineOptions, ...colocatedProcessorOptions, ...colocatedOptions, ...own };
  withOptions(
    processCommand.command('all').description(`Run several processors on one consumer (group gpumon-${COLOCATED_COMPONENT}): one decode and one validation per sample for them all.`),
    spec,
  ).action(action('process all', async (command) => {
    const settings = settingsOf(command, spec);
    const chosen = PROCESSOR_DEFINITIONS.filter((d) => settings.processors.includes(d.name));
    const log = createLogger(COLOCATED_COMPONENT);
    await runUntilSignal(() => runProcessors(COLOCATED_COMPONENT, chosen, settings, log), log);
  }));
}

export function define(command: Command): void {
  addColocatedCommand(command);
  for (const definition of PROCESSOR_DEFINITIONS) addProcessCommand(command, definition);
}

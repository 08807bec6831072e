import type { Command } from 'commander';
import type { ConfigSpec } from '@gpumon/runtime/config';
import { createLogger } from '@gpumon/runtime/log';
import { pipelineOptions } from '@gpumon/runtime/pipeline';
import { processorOptions, runProcessor, type EnrichedStream, type ProcessorDefinition } from '@gpumon/runtime/processor';
import type { Stream } from '@gpumon/schemas/topics';
import { PROCESSOR_DEFINITIONS } from '../components.js';
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

export function define(command: Command): void {
  for (const definition of PROCESSOR_DEFINITIONS) addProcessCommand(command, definition);
}

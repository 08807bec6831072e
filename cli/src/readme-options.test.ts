import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderOptionsTable, type ConfigSpec } from '@gpumon/runtime/config';
import { detectAnomaliesOptions } from '@gpumon/detect-anomalies/options';
import { agentOptions } from '@gpumon/nvidia-smi/agent-options';
import { predictFailureOptions } from '@gpumon/predict-failure/options';
import { priceUsageOptions } from '@gpumon/price-usage/options';
import { alertOptions } from '@gpumon/runtime/alert';
import { processorOptions } from '@gpumon/runtime/processor';
import { datasetOptions } from '@gpumon/simulator/dataset/options';
import { simulatorOptions } from '@gpumon/simulator/options';
import { alertmanagerOptions } from '@gpumon/sink-alertmanager/options';
import { sinkOptions } from '@gpumon/sink-timescaledb/options';
import { colocatedOptions } from './components.js';
import { demoOptions } from './demo.js';

/** The option specs are the source of truth; each README carries their rendered table. */
const DOCUMENTED: Array<[string, ConfigSpec]> = [
  ['producers/nvidia-smi/README.md', agentOptions],
  ['producers/simulator/README.md', simulatorOptions],
  ['runtime/README.md', processorOptions],
  ['processors/score-health/README.md', alertOptions],
  ['processors/detect-anomalies/README.md', detectAnomaliesOptions],
  ['processors/price-usage/README.md', priceUsageOptions],
  ['processors/predict-failure/README.md', predictFailureOptions],
  ['producers/simulator/README.md', datasetOptions],
  ['sinks/timescaledb/README.md', sinkOptions],
  ['sinks/alertmanager/README.md', alertmanagerOptions],
  ['cli/README.md', demoOptions],
  ['cli/README.md', colocatedOptions],
];

describe('configuration docs', () => {
  it.each(DOCUMENTED)('%s carries the current options table', (readme, spec) => {
    const text = readFileSync(new URL(`../../${readme}`, import.meta.url), 'utf8');
    expect(text, `paste this table into ${readme}:\n${renderOptionsTable(spec)}`).toContain(renderOptionsTable(spec));
  });

  it('the root README names every shared connection variable', async () => {
    const { pipelineOptions } = await import('@gpumon/runtime/pipeline');
    const { databaseOptions } = await import('@gpumon/runtime/database');
    const text = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const option of Object.values({ ...pipelineOptions, ...databaseOptions })) expect(text).toContain(`\`${option.env}\``);
  });
});

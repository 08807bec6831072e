import type { RecordProcessor } from '@gpumon/runtime/processor';
import { priceUsageOptions } from './options.js';
import { priceUsage } from './price.js';
import { loadPricing } from './pricing.js';
import { loadTeams } from './teams.js';

export const priceUsageProcessor: RecordProcessor<'samples', 'economics', typeof priceUsageOptions> = {
  name: 'price-usage',
  description: 'Cost, energy and carbon of each sample interval from a pricing file, in OpenCost\'s terms, split among the GPU\'s workloads and their teams: gpu.samples.v1 → gpu.economics.v1.',
  input: 'samples',
  outputs: ['economics'],
  options: priceUsageOptions,
  create: (settings) => {
    const pricing = loadPricing(settings.pricingFile);
    const teams = loadTeams(settings.teamsFile);
    return (sample) => {
      const economics = priceUsage(sample, pricing, teams);
      return economics === null ? [] : [{ stream: 'economics', record: economics }];
    };
  },
};

import type { RecordProcessor } from '@gpumon/runtime/processor';
import { priceUsageOptions } from './options.js';
import { priceUsage } from './price.js';
import { loadPricing } from './pricing.js';

export const priceUsageProcessor: RecordProcessor<'samples', 'economics', typeof priceUsageOptions> = {
  name: 'price-usage',
  description: 'Cost, energy and carbon of each sample interval from a pricing file, in OpenCost\'s terms: gpu.samples.v1 → gpu.economics.v1.',
  input: 'samples',
  outputs: ['economics'],
  options: priceUsageOptions,
  create: (settings) => {
    const pricing = loadPricing(settings.pricingFile);
    return (sample) => {
      const economics = priceUsage(sample, pricing);
      return economics === null ? [] : [{ stream: 'economics', record: economics }];
    };
  },
};

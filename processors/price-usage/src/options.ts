import { parse } from '@gpumon/runtime/config';

/** The shipped example, as a path from the repository root. */
export const EXAMPLE_PRICING = 'processors/price-usage/pricing.example.yaml';

export const priceUsageOptions = {
  pricingFile: {
    env: 'GPUMON_PRICING_FILE', flag: 'pricing', default: EXAMPLE_PRICING, example: '/etc/gpumon/pricing.yaml',
    description: 'YAML or JSON pricing file: price per GPU model, electricity, PUE, carbon intensity. The default is the shipped example with public list prices; production should point at its own.',
    schema: parse.file(EXAMPLE_PRICING),
  },
} as const;

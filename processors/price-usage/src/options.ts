import { parse } from '@gpumon/runtime/config';

/** The shipped example, as a path from the repository root. */
export const EXAMPLE_PRICING = 'processors/price-usage/pricing.example.yaml';
/** The shipped example team file, as a path from the repository root. */
export const EXAMPLE_TEAMS = 'processors/price-usage/teams.example.yaml';

export const priceUsageOptions = {
  pricingFile: {
    env: 'GPUMON_PRICING_FILE', flag: 'pricing', default: EXAMPLE_PRICING, example: '/etc/gpumon/pricing.yaml',
    description: 'YAML or JSON pricing file: price per GPU model, electricity, PUE, carbon intensity. The default is the shipped example with public list prices; production should point at its own.',
    schema: parse.file(EXAMPLE_PRICING),
  },
  teamsFile: {
    env: 'GPUMON_TEAMS_FILE', flag: 'teams', default: EXAMPLE_TEAMS, example: '/etc/gpumon/teams.yaml',
    description: 'YAML or JSON team file: ordered rules that give each workload (pod container or Slurm job) its team by kind, cluster, namespace, pod, container, account, user, partition or workload id; the first that matches wins, none: unassigned. The default maps the simulator\'s namespaces and accounts.',
    schema: parse.file(EXAMPLE_TEAMS),
  },
} as const;

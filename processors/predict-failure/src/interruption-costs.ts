import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';

const MICROS = 1_000_000;

const costsFile = z.strictObject({
  currency: z.string({ error: 'must be a string' }).regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 code such as USD' }),
  hosts: z.array(z.strictObject({
    match: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty (use "*" for every host)' }),
    cost: z.number({ error: 'must be a number' }).min(0, { error: 'must be at least 0' }),
  }), { error: 'must be a list of entries' }).min(1, { error: 'must hold at least one entry' }),
});

/** What one unplanned interruption costs on a host, in millionths of `currency`. */
export interface InterruptionCost {
  currency: string;
  micros: number;
}

/** Host globs in file order; the first match prices a host. */
export interface InterruptionCosts {
  currency: string;
  hosts: ReadonlyArray<{ pattern: RegExp; micros: number }>;
}

export function parseInterruptionCosts(text: string, source: string): InterruptionCosts {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new GpumonError('config_invalid', `interruption costs ${source}: ${errorMessage(error)}`, { cause: error });
  }
  const parsed = costsFile.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new GpumonError('config_invalid', `interruption costs ${source} is invalid: ${problems}`);
  }
  return {
    currency: parsed.data.currency,
    hosts: parsed.data.hosts.map((h) => ({ pattern: globPattern(h.match), micros: Math.round(h.cost * MICROS) })),
  };
}

export function loadInterruptionCosts(path: string): InterruptionCosts {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new GpumonError('config_invalid', `interruption costs ${path}: ${errorMessage(error)}`, { cause: error });
  }
  return parseInterruptionCosts(text, path);
}

/** The cost of an interruption on `hostname`, or null when no entry matches it. */
export function interruptionCostOf(costs: InterruptionCosts, hostname: string): InterruptionCost | null {
  const entry = costs.hosts.find((h) => h.pattern.test(hostname));
  return entry === undefined ? null : { currency: costs.currency, micros: entry.micros };
}

function globPattern(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${escaped}$`, 'i');
}

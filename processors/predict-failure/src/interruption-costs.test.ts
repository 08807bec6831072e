import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { interruptionCostOf, loadInterruptionCosts, parseInterruptionCosts } from './interruption-costs.js';

describe('interruption costs', () => {
  it('prices a host by the first matching glob, in exact micro-units', () => {
    const costs = parseInterruptionCosts('currency: EUR\nhosts:\n  - {match: "train-*", cost: 2300.5}\n  - {match: "*", cost: 75}\n', 'test');
    expect(interruptionCostOf(costs, 'train-007')).toEqual({ currency: 'EUR', micros: 2_300_500_000 });
    expect(interruptionCostOf(costs, 'TRAIN-1')).toEqual({ currency: 'EUR', micros: 2_300_500_000 });
    expect(interruptionCostOf(costs, 'infer-1')).toEqual({ currency: 'EUR', micros: 75_000_000 });
  });

  it('gives no cost for a host no entry matches', () => {
    const costs = parseInterruptionCosts('currency: USD\nhosts:\n  - {match: "dc1.*.gpu", cost: 10}\n', 'test');
    expect(interruptionCostOf(costs, 'dc1.rack4.gpu')).not.toBeNull();
    expect(interruptionCostOf(costs, 'dc1xrack4xgpu')).toBeNull();
  });

  it('names the file and every problem of an invalid one', () => {
    expect(() => parseInterruptionCosts('currency: dollars\nhosts:\n  - {match: "", cost: -1}\n', 'costs.yaml')).toThrow(
      /costs\.yaml is invalid: currency: must be an ISO 4217 code such as USD; hosts\.0\.match: must not be empty.*; hosts\.0\.cost: must be at least 0/,
    );
    expect(() => parseInterruptionCosts('currency: USD\nhosts: []\nextra: 1\n', 'costs.yaml')).toThrow(/hosts: must hold at least one entry/);
    expect(() => loadInterruptionCosts('/nonexistent/costs.yaml')).toThrow(/interruption costs \/nonexistent\/costs\.yaml: ENOENT/);
  });

  it('loads the shipped example', () => {
    const costs = loadInterruptionCosts(fileURLToPath(new URL('../interruption-costs.example.yaml', import.meta.url)));
    expect(costs.currency).toBe('USD');
    expect(interruptionCostOf(costs, 'sim-001')?.micros).toBe(75_000_000);
  });
});

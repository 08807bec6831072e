import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { GpumonError } from '@gpumon/runtime/errors';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { priceUsageOptions } from './options.js';
import { loadPricing, parsePricing, priceOf } from './pricing.js';

const SITE = { electricity_per_kwh: 0.08, pue: 1.5, carbon_kg_per_kwh: 0.39 };

function problemsOf(raw: unknown): string {
  try {
    parsePricing(raw, 'test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(GpumonError);
    expect((error as GpumonError).code).toBe('config_invalid');
    return (error as Error).message;
  }
  throw new Error('expected the pricing to be rejected');
}

function withEntry(entry: Record<string, unknown>): unknown {
  return { currency: 'USD', defaults: SITE, models: [{ match: 'H100', hourly_price: 2.99 }, entry] };
}

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gpumon-pricing-')), name);
  writeFileSync(path, text);
  return path;
}

describe('pricing file', () => {
  const example = loadPricing(loadConfig(priceUsageOptions, {}, {}).pricingFile);

  it('ships an example that prices every board the simulator models by its own entry', () => {
    const products = new Set(new SimulatedFleet({ seed: 1, hosts: 40, gpusPerHost: 8, hostPrefix: 'p' }).sample(1_767_225_600_000).map((s) => s.product_name));
    expect(products.size).toBeGreaterThan(2);
    for (const product of products) {
      const model = priceOf(example, product);
      expect(model?.match, `${product}`).not.toBe('*');
      expect(product?.toLowerCase()).toContain(model?.match.toLowerCase());
    }
    expect(priceOf(example, 'NVIDIA L40S')?.match).toBe('L40S');
    expect(priceOf(example, 'NVIDIA B200')?.match).toBe('*');
    expect(priceOf(example, null)?.match).toBe('*');
  });

  it('keeps prices exact: hourly as written, amortized as purchase ÷ (years × 8760)', () => {
    const pricing = parsePricing({
      currency: 'EUR', defaults: SITE,
      models: [{ match: 'a100', amortized: { purchase_price: 15000, years: 4 } }, { match: 'H100', hourly_price: 2.99, pue: 1.2 }],
    }, 'inline');
    expect(pricing.currency).toBe('EUR');
    expect(pricing.models[0]?.hourlyMicros).toEqual({ num: 15000 * 1_000_000, den: 4 * 8760 });
    // 15000e6 ÷ (4 × 8760 × 3.6e6) in lowest terms.
    expect(pricing.models[0]?.microsPerMs).toEqual({ num: 625, den: 5256 });
    expect(pricing.models[1]).toEqual({ match: 'H100', hourlyMicros: { num: 299 * 1_000_000, den: 100 }, microsPerMs: { num: 299, den: 360 }, pue: 1.2, energyMicrosPerWMs: { num: 12 * 8, den: 10 * 100 * 3600 }, carbonKgPerKwh: 0.39 });
  });

  it('matches case-insensitive substrings, first entry first, and only the catch-all matches no product name', () => {
    const pricing = parsePricing({ currency: 'USD', defaults: SITE, models: [{ match: 'h100 pcie', hourly_price: 2 }, { match: 'H100', hourly_price: 3 }] }, 'inline');
    expect(priceOf(pricing, 'NVIDIA H100 PCIe')?.match).toBe('h100 pcie');
    expect(priceOf(pricing, 'NVIDIA H100 80GB HBM3')?.match).toBe('H100');
    expect(priceOf(pricing, 'Tesla T4')).toBeUndefined();
    expect(priceOf(pricing, null)).toBeUndefined();
  });

  it('reads JSON as well as YAML', () => {
    const path = tempFile('pricing.json', JSON.stringify({ currency: 'USD', defaults: SITE, models: [{ match: '*', hourly_price: 1 }] }));
    expect(loadPricing(path).models).toHaveLength(1);
  });

  it('names the file and the entry in every error', () => {
    expect(problemsOf(withEntry({ match: 'A100', amortized: { purchase_price: 15000, years: 0 } })))
      .toBe('pricing file test.yaml is invalid:\n  models[1] (match "A100"): amortized.years: must be more than 0');
    expect(problemsOf(withEntry({ match: 'L4', hourly_price: 0.75, amortized: { purchase_price: 1, years: 1 } })))
      .toContain('models[1] (match "L4"): give exactly one of hourly_price and amortized');
    expect(problemsOf(withEntry({ match: 'L4' }))).toContain('models[1] (match "L4"): give exactly one of hourly_price and amortized');
    expect(problemsOf(withEntry({ match: 'L4', hourly: 0.75 }))).toMatch(/models\[1\] \(match "L4"\).*hourly/);
    expect(problemsOf(withEntry({ match: 'L4', hourly_price: -1 }))).toContain('models[1] (match "L4"): hourly_price: must be at least 0');
    expect(problemsOf(withEntry({ match: 'L4', hourly_price: '0.75' }))).toContain('models[1] (match "L4"): hourly_price: must be a number');
    expect(problemsOf(withEntry({ match: 'L4', hourly_price: 0.75, pue: 0.9 }))).toContain('models[1] (match "L4"): pue: must be at least 1');
    expect(problemsOf(withEntry({ hourly_price: 0.75 }))).toContain('models[1]: match: must be a string');
    expect(problemsOf(withEntry({ match: '', hourly_price: 0.75 }))).toContain('models[1] (match ""): match: must not be empty');
    expect(problemsOf({ currency: 'dollars', defaults: SITE, models: [{ match: '*', hourly_price: 1 }] })).toContain('currency: must be an ISO 4217 code');
    expect(problemsOf({ currency: 'USD', defaults: SITE, models: [] })).toContain('models: must hold at least one entry');
    expect(problemsOf(null)).toContain('(top level)');
  });

  it('wants every site figure, from the entry or the defaults', () => {
    const raw = { currency: 'USD', defaults: { pue: 1.5 }, models: [{ match: 'H100', hourly_price: 2.99, electricity_per_kwh: 0.1 }] };
    const message = problemsOf(raw);
    expect(message).toContain('models[0] (match "H100"): carbon_kg_per_kwh: missing here and in defaults');
    expect(message).not.toContain('electricity_per_kwh');
    expect(message).not.toContain('pue');
  });

  it('rejects an entry an earlier one hides', () => {
    const message = problemsOf({ currency: 'USD', defaults: SITE, models: [{ match: 'L4', hourly_price: 0.75 }, { match: 'L40S', hourly_price: 0.99 }, { match: 'H100', hourly_price: 2.99 }] });
    expect(message).toBe('pricing file test.yaml is invalid:\n  models[1] (match "L40S"): match: can never match: models[0] (match "L4") comes first and matches every product this one would; put the more specific entry first');
    expect(problemsOf({ currency: 'USD', defaults: SITE, models: [{ match: '*', hourly_price: 2 }, { match: 'T4', hourly_price: 0.45 }] }))
      .toContain('models[1] (match "T4"): match: can never match: models[0] (match "*")');
  });

  it('says which file cannot be read or parsed', () => {
    expect(() => loadPricing('/nonexistent/pricing.yaml')).toThrow(/cannot read pricing file \/nonexistent\/pricing\.yaml: ENOENT/);
    const bad = tempFile('pricing.yaml', 'currency: USD\nmodels: [\n');
    expect(() => loadPricing(bad)).toThrow(`pricing file ${bad} is neither YAML nor JSON`);
    const invalid = tempFile('pricing.yaml', 'currency: USD\nmodels:\n  - match: "*"\n    hourly_price: 1\n');
    expect(() => loadPricing(invalid)).toThrow(`pricing file ${invalid} is invalid:\n  models[0] (match "*"): electricity_per_kwh: missing here and in defaults`);
  });

  it('finds the shipped example from any working directory, and other files from the working directory', () => {
    expect(loadConfig(priceUsageOptions, {}, {}).pricingFile).toMatch(/\/processors\/price-usage\/pricing\.example\.yaml$/);
    expect(loadConfig(priceUsageOptions, { pricingFile: 'site/pricing.yaml' }, {}).pricingFile).toBe(join(process.cwd(), 'site/pricing.yaml'));
    expect(loadConfig(priceUsageOptions, {}, { GPUMON_PRICING_FILE: '/etc/gpumon/pricing.yaml' }).pricingFile).toBe('/etc/gpumon/pricing.yaml');
  });
});

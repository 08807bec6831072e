import { z } from 'zod';
import { invalidFile, readConfigFile, type EntryList } from './config-file.js';
import { dividedBy, exact, reduced, times, type Ratio } from './exact.js';

/** The `match` of the entry that prices every product, a missing product name included. */
export const CATCH_ALL = '*';
/** Amortization spreads a purchase over years of 365 days. */
const HOURS_PER_YEAR = 8760;
const MICROS = 1_000_000;
const PER_HOUR_MS = { num: 1, den: 3_600_000 };
/** W × ms × PUE × currency/kWh ÷ 3600 = currency micro-units (1 kWh = 3.6e9 W·ms, 1 unit = 1e6 micros). */
const MICROS_PER_W_MS_KWH_PRICE = { num: 1, den: 3600 };
const WHAT = 'pricing file';
/** Errors name a models entry by its match. */
const MODELS: EntryList = {
  key: 'models',
  label: (entry) => {
    const match = (entry as { match?: unknown } | undefined)?.match;
    return typeof match === 'string' ? `match "${match}"` : undefined;
  },
};

const nonNegative = () => z.number({ error: 'must be a number' }).min(0, { error: 'must be at least 0' });

/** What an entry may set for itself and what `defaults` sets for every entry that does not. */
const siteFields = {
  electricity_per_kwh: nonNegative().optional(),
  pue: z.number({ error: 'must be a number' }).min(1, { error: 'must be at least 1 (facility energy ÷ IT energy)' }).optional(),
  carbon_kg_per_kwh: nonNegative().optional(),
};
const SITE_KEYS = Object.keys(siteFields) as Array<keyof typeof siteFields>;

const modelEntry = z
  .strictObject({
    match: z.string({ error: 'must be a string' }).min(1, { error: `must not be empty (use "${CATCH_ALL}" for a catch-all)` }),
    hourly_price: nonNegative().optional(),
    amortized: z
      .strictObject({
        purchase_price: nonNegative(),
        years: z.number({ error: 'must be a number' }).gt(0, { error: 'must be more than 0' }),
      })
      .optional(),
    ...siteFields,
  })
  .refine((m) => (m.hourly_price === undefined) !== (m.amortized === undefined), {
    error: 'give exactly one of hourly_price and amortized',
  });

const pricingFile = z
  .strictObject({
    currency: z.string({ error: 'must be a string' }).regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 code such as USD' }),
    defaults: z.strictObject(siteFields).default({}),
    models: z.array(modelEntry, { error: 'must be a list of entries' }).min(1, { error: 'must hold at least one entry' }),
  })
  .superRefine((file, ctx) => {
    file.models.forEach((model, i) => {
      for (const key of SITE_KEYS) {
        if (model[key] === undefined && file.defaults[key] === undefined) {
          ctx.addIssue({ code: 'custom', path: ['models', i, key], message: 'missing here and in defaults' });
        }
      }
      // An earlier match that is a substring of this one takes every product this one would: "L4" before "L40S".
      const shadow = file.models.findIndex((earlier, j) => j < i && covers(earlier.match, model.match));
      if (shadow >= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['models', i, 'match'],
          message: `can never match: models[${shadow}] (match "${file.models[shadow]?.match}") comes first and matches every product this one would; put the more specific entry first`,
        });
      }
    });
  });

/** One entry of the pricing file with the defaults filled in. */
export interface ModelPrice {
  match: string;
  /** Allocated cost of one GPU-hour (currency micro-units per hour, exact: amortized prices do not end). */
  hourlyMicros: Ratio;
  /** The same price a millisecond, in lowest terms: what a sample's timestamps are multiplied by. */
  microsPerMs: Ratio;
  /** Power usage effectiveness: facility energy ÷ IT energy (≥ 1). */
  pue: number;
  /** What a W·ms of board power costs at the facility meter's price per kWh, PUE included (currency micro-units, exact): once here, not per sample. */
  energyMicrosPerWMs: Ratio;
  /** Grid carbon intensity (kg CO2e per kWh). */
  carbonKgPerKwh: number;
}

export interface Pricing {
  /** Where the pricing came from, for error messages. */
  source: string;
  currency: string;
  /** In file order: the first whose match the product name contains wins. */
  models: ModelPrice[];
}

/** Validates a pricing file's content; errors name the source and each bad entry. */
export function parsePricing(raw: unknown, source: string): Pricing {
  const parsed = pricingFile.safeParse(raw);
  if (!parsed.success) throw invalidFile(WHAT, source, raw, parsed.error.issues, MODELS);
  const { currency, defaults, models } = parsed.data;
  return {
    source,
    currency,
    models: models.map((model) => {
      const electricityPerKwh = (model.electricity_per_kwh ?? defaults.electricity_per_kwh) as number;
      const pue = (model.pue ?? defaults.pue) as number;
      const hourlyMicros = model.amortized === undefined
        ? times(exact(model.hourly_price as number), MICROS)
        : dividedBy(times(exact(model.amortized.purchase_price), MICROS), times(exact(model.amortized.years), HOURS_PER_YEAR));
      return {
        match: model.match,
        hourlyMicros,
        microsPerMs: reduced(times(hourlyMicros, PER_HOUR_MS)),
        pue,
        energyMicrosPerWMs: times(exact(pue), exact(electricityPerKwh), MICROS_PER_W_MS_KWH_PRICE),
        carbonKgPerKwh: (model.carbon_kg_per_kwh ?? defaults.carbon_kg_per_kwh) as number,
      };
    }),
  };
}

/** Reads a YAML or JSON pricing file (JSON is YAML) once, at start. */
export function loadPricing(path: string): Pricing {
  return parsePricing(readConfigFile(path, WHAT), path);
}

/** The first entry whose match the product name contains, case-insensitively; the catch-all matches any. */
export function priceOf(pricing: Pricing, productName: string | null): ModelPrice | undefined {
  return pricing.models.find((model) => (productName === null ? model.match === CATCH_ALL : covers(model.match, productName)));
}

function covers(match: string, name: string): boolean {
  return match === CATCH_ALL || name.toLowerCase().includes(match.toLowerCase());
}

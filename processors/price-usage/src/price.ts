import { GpumonError } from '@gpumon/runtime/errors';
import type { GpuEconomics, GpuSample, WorkloadCost } from '@gpumon/schemas/types.generated';
import { apportion, dividedBy, exact, floorTimes, roundHalfEven, sign, sub, times, toNumber, type Int, type Ratio } from './exact.js';
import { CATCH_ALL, priceOf, type Pricing } from './pricing.js';
import { sharesOf } from './shares.js';
import { UNATTRIBUTED, teamOf, type Teams } from './teams.js';

/**
 * Past a day between two readings of one GPU (the producer was down, the host was off) nobody
 * knows whether the GPU was allocated: such a gap is not billed, as if the reading were the first.
 */
export const MAX_INTERVAL_S = 86_400;
const PER_HUNDRED = { num: 1, den: 100 };
const W_MS_PER_KWH = 3.6e9;

/**
 * Cost of holding a GPU from the epoch to `timeMs` at the given price a millisecond, floored to a whole
 * micro-unit. The allocated cost of an interval is the difference of two of these, so the costs of
 * consecutive intervals add up exactly to the cost of their whole span.
 */
export function allocatedUpTo(microsPerMs: Ratio, timeMs: number): Int {
  return floorTimes(microsPerMs, timeMs);
}

/**
 * The cost, energy and carbon of the interval a sample closes, and its split among the sample's
 * workloads and their teams, from that sample alone; null for a GPU's first reading, which closes
 * no interval. Throws for an impossible reading and for a product the pricing does not cover: the
 * runtime dead-letters that record and goes on.
 */
export function priceUsage(sample: GpuSample, pricing: Pricing, teams: Teams): GpuEconomics | null {
  if (sample.interval_s === null || sample.interval_s > MAX_INTERVAL_S) return null;
  const intervalMs = Math.round(sample.interval_s * 1000);
  if (!(intervalMs >= 1)) throw impossible(sample, 'interval_s', sample.interval_s, 'must be at least 0.001 s');
  const model = priceOf(pricing, sample.product_name);
  if (model === undefined) {
    throw new GpumonError(
      'transform_failed',
      `no price for ${gpuOf(sample)}: its product ${JSON.stringify(sample.product_name)} matches no models entry of ${pricing.source}; add one, or a catch-all (match: "${CATCH_ALL}")`,
    );
  }

  const powerField = sample.power_draw_average_w !== null ? 'power_draw_average_w' : 'power_draw_w';
  const powerW = sample.gpu_lost ? 0 : (sample[powerField] ?? 0);
  if (!(powerW >= 0 && Number.isFinite(powerW))) throw impossible(sample, powerField, powerW, 'must be a finite number of watts, at least 0');
  const utilizationPct = sample.gpu_lost ? 0 : (sample.utilization_gpu_pct ?? 0);
  if (!(utilizationPct >= 0 && utilizationPct <= 100)) {
    throw impossible(sample, 'utilization_gpu_pct', utilizationPct, 'must be between 0 and 100 %');
  }

  const allocated = sub(allocatedUpTo(model.microsPerMs, sample.time), allocatedUpTo(model.microsPerMs, sample.time - intervalMs));
  const busyShare = times(exact(utilizationPct), PER_HUNDRED);
  const used = roundHalfEven(times(busyShare, allocated));
  const energyCost = roundHalfEven(times(exact(powerW), intervalMs, model.energyMicrosPerWMs));
  const energyKwh = (powerW * intervalMs * model.pue) / W_MS_PER_KWH;
  return {
    time: sample.time,
    gpu_uuid: sample.gpu_uuid,
    hostname: sample.hostname,
    product_name: sample.product_name,
    currency: pricing.currency,
    interval_s: intervalMs / 1000,
    energy_kwh: energyKwh,
    energy_cost_micros: Number(energyCost),
    allocated_cost_micros: Number(allocated),
    used_cost_micros: Number(used),
    idle_cost_micros: Number(sub(allocated, used)),
    efficiency: utilizationPct / 100,
    co2e_kg: energyKwh * model.carbonKgPerKwh,
    cost_per_used_gpu_hour_micros: costPerUsedHour(model.hourlyMicros, busyShare),
    workloads: workloadCosts(sample, teams, { allocated, used, energyKwh }),
  };
}

/**
 * The GPU's interval split by each workload's share: used and allocated cost each apportioned in
 * whole micro-units that add up exactly to the GPU's, no part used beyond its allocated, so idle
 * (allocated − used) is never negative. Utilization is read per GPU, not per MIG slice, so every
 * part is used in the same proportion as the GPU.
 */
function workloadCosts(sample: GpuSample, teams: Teams, gpu: { allocated: Int; used: Int; energyKwh: number }): WorkloadCost[] {
  const shares = sharesOf(sample);
  if (shares.length === 0) return [];
  const fractions = shares.map((s) => s.share);
  const allocated = apportion(gpu.allocated, fractions);
  const used = apportion(gpu.used, fractions, allocated);
  return shares.map(({ workload, share }, i) => {
    const fraction = toNumber(share);
    return {
      workload_id: workload?.workload_id ?? null,
      team: workload === null ? UNATTRIBUTED : teamOf(teams, workload),
      share: fraction,
      energy_kwh: gpu.energyKwh * fraction,
      allocated_cost_micros: Number(allocated[i]),
      used_cost_micros: Number(used[i]),
      idle_cost_micros: Number(sub(allocated[i]!, used[i]!)),
    };
  });
}

/**
 * Allocated cost ÷ used GPU-hours = hourly price ÷ busy share, from the exact hourly price, not the
 * floored interval cost, whose rounding 1 ÷ used hours would magnify. Null when idle, or so nearly
 * idle that the figure passes what a number carries exactly (2^53 micro-units per used hour).
 */
function costPerUsedHour(hourlyMicros: Ratio, busyShare: Ratio): number | null {
  if (sign(busyShare.num) === 0) return null;
  const micros = roundHalfEven(dividedBy(hourlyMicros, busyShare));
  return micros <= Number.MAX_SAFE_INTEGER ? Number(micros) : null;
}

/** How errors name the GPU: built only for one, not for every sample. */
function gpuOf(sample: GpuSample): string {
  return `GPU ${sample.gpu_uuid} on ${sample.hostname}`;
}

function impossible(sample: GpuSample, field: string, value: number, why: string): GpumonError {
  return new GpumonError('transform_failed', `impossible reading of ${gpuOf(sample)}: ${field} is ${value}; ${why}`);
}

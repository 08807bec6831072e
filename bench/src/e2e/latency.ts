import type pg from 'pg';
import { TABLE_NAMES } from '@gpumon/sink-timescaledb/tables';

/**
 * Gives every sink table of the (scratch) database an `ingested_at` column that PostgreSQL fills
 * with its own clock as each row goes in. The sink names its columns in COPY, so it never sees it.
 * A row becomes visible at its write's commit, a few ms to one write's length after this clock.
 */
export async function addIngestClock(client: pg.ClientBase): Promise<void> {
  for (const table of Object.values(TABLE_NAMES)) {
    // In two steps: TimescaleDB refuses a column with a volatile default on a hypertable with the columnstore on (0015).
    await client.query(`ALTER TABLE ${table} ADD COLUMN ingested_at timestamptz`);
    await client.query(`ALTER TABLE ${table} ALTER COLUMN ingested_at SET DEFAULT clock_timestamp()`);
  }
}

export interface StepLatency {
  samples: number;
  /**
   * Samples with every enrichment written: health; economics unless it is a GPU's first reading (no
   * interval to price); a prediction unless the GPU was lost.
   */
  complete: number;
  /** Sample time to its last row in (ms): p50, p95, p99. */
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  /** The same for gpu_samples alone. */
  samples_p99_ms: number;
  /** p99 of each GPU's first reading (a GPU the pipeline had not seen: new inventory rows, new per-GPU state), and of the later ones. */
  first_readings_p99_ms: number;
  later_readings_p99_ms: number;
  /** Latency at each whole percentile 0..100, for the plot. */
  cdf_ms: number[];
}

const PERCENTILES = Array.from({ length: 101 }, (_, i) => i / 100);

/** Each sample of [from, to) with its last row's ingest time, whether every enrichment is written, and whether it is its GPU's first reading. */
const STEP_SAMPLES = `SELECT extract(epoch FROM greatest(s.ingested_at, h.ingested_at, e.ingested_at, p.ingested_at) - s.time) * 1000 AS ms,
         extract(epoch FROM s.ingested_at - s.time) * 1000 AS alone_ms,
         s.interval_s IS NULL AS first,
         h.time IS NOT NULL AND (e.time IS NOT NULL OR s.interval_s IS NULL) AND (p.time IS NOT NULL OR s.gpu_lost) AS complete
  FROM gpu_samples s
  LEFT JOIN gpu_health h ON h.gpu_uuid = s.gpu_uuid AND h.time = s.time
  LEFT JOIN gpu_economics e ON e.gpu_uuid = s.gpu_uuid AND e.time = s.time
  LEFT JOIN gpu_predictions p ON p.gpu_uuid = s.gpu_uuid AND p.time = s.time
  WHERE s.time >= $1 AND s.time < $2`;

/** Samples of [from, to) with every enrichment written: what the bench polls while a step drains, cheaper than the percentiles. */
export async function completeSamples(client: pg.ClientBase, from: Date, to: Date): Promise<number> {
  const result = await client.query<{ complete: string }>(`SELECT count(*) FILTER (WHERE complete) AS complete FROM (${STEP_SAMPLES}) AS step`, [from, to]);
  return Number(result.rows[0]!.complete);
}

/** Latency of every sample whose time falls in [from, to), through to its last enrichment's row. */
export async function stepLatency(client: pg.ClientBase, from: Date, to: Date): Promise<StepLatency> {
  const result = await client.query<{ samples: string; complete: string; cdf: number[] | null; alone: number | null; first_p99: number | null; later_p99: number | null }>(
    `WITH step AS (${STEP_SAMPLES})
     SELECT count(*) AS samples, count(*) FILTER (WHERE complete) AS complete,
            percentile_cont($3::float8[]) WITHIN GROUP (ORDER BY ms) AS cdf,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY alone_ms) AS alone,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FILTER (WHERE first) AS first_p99,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FILTER (WHERE NOT first) AS later_p99
     FROM step`,
    [from, to, PERCENTILES],
  );
  const row = result.rows[0]!;
  const cdf = (row.cdf ?? []).map((ms) => Math.round(ms));
  return {
    samples: Number(row.samples),
    complete: Number(row.complete),
    p50_ms: cdf[50] ?? NaN,
    p95_ms: cdf[95] ?? NaN,
    p99_ms: cdf[99] ?? NaN,
    samples_p99_ms: Math.round(row.alone ?? NaN),
    first_readings_p99_ms: Math.round(row.first_p99 ?? NaN),
    later_readings_p99_ms: Math.round(row.later_p99 ?? NaN),
    cdf_ms: cdf,
  };
}

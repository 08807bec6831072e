-- Up Migration
-- The analysts' views; docs/views.md describes each one with an example query. Rollups are built
-- on two hourly per-GPU aggregates: continuous aggregates (refreshed by a policy, recent hours
-- computed live) where the edition has them, plain time_bucket views on the Apache edition. Both
-- have the same name and columns, so every view above them, and every query, is the same.
DO $$
DECLARE
  samples_hourly text := $q$
    SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, gpu_uuid, hostname, product_name,
           count(*) AS samples,
           count(utilization_gpu_pct) AS utilization_gpu_n, sum(utilization_gpu_pct) AS utilization_gpu_sum,
           count(utilization_memory_pct) AS utilization_memory_n, sum(utilization_memory_pct) AS utilization_memory_sum,
           count(power_draw_w) AS power_draw_n, sum(power_draw_w) AS power_draw_sum, max(power_draw_w) AS power_draw_max_w
      FROM gpu_samples
     GROUP BY time_bucket(INTERVAL '1 hour', time), gpu_uuid, hostname, product_name$q$;
  economics_hourly text := $q$
    SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, gpu_uuid, hostname, product_name, currency,
           sum(interval_s) AS interval_s, sum(energy_kwh) AS energy_kwh,
           sum(energy_cost_micros) AS energy_cost_micros, sum(allocated_cost_micros) AS allocated_cost_micros,
           sum(used_cost_micros) AS used_cost_micros, sum(idle_cost_micros) AS idle_cost_micros,
           sum(co2e_kg) AS co2e_kg
      FROM gpu_economics
     GROUP BY time_bucket(INTERVAL '1 hour', time), gpu_uuid, hostname, product_name, currency$q$;
BEGIN
  IF current_setting('timescaledb.license') = 'apache' THEN
    EXECUTE 'CREATE VIEW gpu_samples_hourly AS' || samples_hourly;
    EXECUTE 'CREATE VIEW gpu_economics_hourly AS' || economics_hourly;
  ELSE
    EXECUTE 'CREATE MATERIALIZED VIEW gpu_samples_hourly WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS'
      || samples_hourly || ' WITH NO DATA';
    EXECUTE 'CREATE MATERIALIZED VIEW gpu_economics_hourly WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS'
      || economics_hourly || ' WITH NO DATA';
    PERFORM add_continuous_aggregate_policy('gpu_samples_hourly', start_offset => INTERVAL '3 days',
      end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes');
    PERFORM add_continuous_aggregate_policy('gpu_economics_hourly', start_offset => INTERVAL '3 days',
      end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes');
  END IF;
END
$$;

-- Per GPU and hour: the sums and counts every rollup adds up. Samples and economics are stacked
-- (UNION ALL, then grouped) rather than joined, so a filter on bucket reaches both tables, and the
-- cost of hours whose samples retention has dropped still counts.
CREATE VIEW gpu_usage_hourly_sums AS
SELECT bucket, gpu_uuid, hostname, max(product_name) AS product_name, max(currency) AS currency,
       sum(samples)::bigint AS samples,
       sum(utilization_gpu_n)::bigint AS utilization_gpu_n, sum(utilization_gpu_sum) AS utilization_gpu_sum,
       sum(utilization_memory_n)::bigint AS utilization_memory_n, sum(utilization_memory_sum) AS utilization_memory_sum,
       sum(power_draw_n)::bigint AS power_draw_n, sum(power_draw_sum) AS power_draw_sum, max(power_draw_max_w) AS power_draw_max_w,
       sum(interval_s) AS interval_s, sum(energy_kwh) AS energy_kwh,
       sum(energy_cost_micros)::bigint AS energy_cost_micros, sum(allocated_cost_micros)::bigint AS allocated_cost_micros,
       sum(used_cost_micros)::bigint AS used_cost_micros, sum(idle_cost_micros)::bigint AS idle_cost_micros,
       sum(co2e_kg) AS co2e_kg
  FROM (
    SELECT bucket, gpu_uuid, hostname, product_name, NULL::text AS currency,
           samples, utilization_gpu_n, utilization_gpu_sum, utilization_memory_n, utilization_memory_sum,
           power_draw_n, power_draw_sum, power_draw_max_w,
           NULL::double precision AS interval_s, NULL::double precision AS energy_kwh, NULL::numeric AS energy_cost_micros,
           NULL::numeric AS allocated_cost_micros, NULL::numeric AS used_cost_micros, NULL::numeric AS idle_cost_micros,
           NULL::double precision AS co2e_kg
      FROM gpu_samples_hourly
    UNION ALL
    SELECT bucket, gpu_uuid, hostname, product_name, currency,
           0, 0, NULL, 0, NULL, 0, NULL, NULL,
           interval_s, energy_kwh, energy_cost_micros, allocated_cost_micros, used_cost_micros, idle_cost_micros, co2e_kg
      FROM gpu_economics_hourly
  ) AS parts
 GROUP BY bucket, gpu_uuid, hostname;

-- The six rollups: per GPU, host and model, by hour and by day (UTC), with the same measures. The
-- fleet is priced in one currency (the pricing file's): a bucket with samples but no economics
-- (a lost GPU) joins its group rather than making a row of its own.
CREATE VIEW gpu_usage_hourly_by_gpu AS
SELECT bucket, gpu_uuid, hostname, max(product_name) AS product_name, max(currency) AS currency,
       count(DISTINCT gpu_uuid) AS gpus, sum(samples)::bigint AS samples,
       sum(utilization_gpu_sum) / nullif(sum(utilization_gpu_n), 0) AS avg_utilization_gpu_pct,
       sum(utilization_memory_sum) / nullif(sum(utilization_memory_n), 0) AS avg_utilization_memory_pct,
       sum(power_draw_sum) / nullif(sum(power_draw_n), 0) AS avg_power_draw_w, max(power_draw_max_w) AS max_power_draw_w,
       sum(interval_s) / 3600 AS gpu_hours, sum(energy_kwh) AS energy_kwh,
       sum(energy_cost_micros)::bigint AS energy_cost_micros, sum(allocated_cost_micros)::bigint AS allocated_cost_micros,
       sum(used_cost_micros)::bigint AS used_cost_micros, sum(idle_cost_micros)::bigint AS idle_cost_micros,
       sum(co2e_kg) AS co2e_kg
  FROM gpu_usage_hourly_sums
 GROUP BY 1, gpu_uuid, hostname;

CREATE VIEW gpu_usage_daily_by_gpu AS
SELECT time_bucket(INTERVAL '1 day', bucket) AS bucket, gpu_uuid, hostname, max(product_name) AS product_name, max(currency) AS currency,
       count(DISTINCT gpu_uuid) AS gpus, sum(samples)::bigint AS samples,
       sum(utilization_gpu_sum) / nullif(sum(utilization_gpu_n), 0) AS avg_utilization_gpu_pct,
       sum(utilization_memory_sum) / nullif(sum(utilization_memory_n), 0) AS avg_utilization_memory_pct,
       sum(power_draw_sum) / nullif(sum(power_draw_n), 0) AS avg_power_draw_w, max(power_draw_max_w) AS max_power_draw_w,
       sum(interval_s) / 3600 AS gpu_hours, sum(energy_kwh) AS energy_kwh,
       sum(energy_cost_micros)::bigint AS energy_cost_micros, sum(allocated_cost_micros)::bigint AS allocated_cost_micros,
       sum(used_cost_micros)::bigint AS used_cost_micros, sum(idle_cost_micros)::bigint AS idle_cost_micros,
       sum(co2e_kg) AS co2e_kg
  FROM gpu_usage_hourly_sums
 GROUP BY 1, gpu_uuid, hostname;

CREATE VIEW gpu_usage_hourly_by_host AS
SELECT bucket, hostname, max(currency) AS currency,
       count(DISTINCT gpu_uuid) AS gpus, sum(samples)::bigint AS samples,
       sum(utilization_gpu_sum) / nullif(sum(utilization_gpu_n), 0) AS avg_utilization_gpu_pct,
       sum(utilization_memory_sum) / nullif(sum(utilization_memory_n), 0) AS avg_utilization_memory_pct,
       sum(power_draw_sum) / nullif(sum(power_draw_n), 0) AS avg_power_draw_w, max(power_draw_max_w) AS max_power_draw_w,
       sum(interval_s) / 3600 AS gpu_hours, sum(energy_kwh) AS energy_kwh,
       sum(energy_cost_micros)::bigint AS energy_cost_micros, sum(allocated_cost_micros)::bigint AS allocated_cost_micros,
       sum(used_cost_micros)::bigint AS used_cost_micros, sum(idle_cost_micros)::bigint AS idle_cost_micros,
       sum(co2e_kg) AS co2e_kg
  FROM gpu_usage_hourly_sums
 GROUP BY 1, hostname;

CREATE VIEW gpu_usage_daily_by_host AS
SELECT time_bucket(INTERVAL '1 day', bucket) AS bucket, hostname, max(currency) AS currency,
       count(DISTINCT gpu_uuid) AS gpus, sum(samples)::bigint AS samples,
       sum(utilization_gpu_sum) / nullif(sum(utilization_gpu_n), 0) AS avg_utilization_gpu_pct,
       sum(utilization_memory_sum) / nullif(sum(utilization_memory_n), 0) AS avg_utilization_memory_pct,
       sum(power_draw_sum) / nullif(sum(power_draw_n), 0) AS avg_power_draw_w, max(power_draw_max_w) AS max_power_draw_w,
       sum(interval_s) / 3600 AS gpu_hours, sum(energy_kwh) AS energy_kwh,
       sum(energy_cost_micros)::bigint AS energy_cost_micros, sum(allocated_cost_micros)::bigint AS allocated_cost_micros,
       sum(used_cost_micros)::bigint AS used_cost_micros, sum(idle_cost_micros)::bigint AS idle_cost_micros,
       sum(co2e_kg) AS co2e_kg
  FROM gpu_usage_hourly_sums
 GROUP BY 1, hostname;

CREATE VIEW gpu_usage_hourly_by_model AS
SELECT bucket, product_name, max(currency) AS currency,
       count(DISTINCT gpu_uuid) AS gpus, sum(samples)::bigint AS samples,
       sum(utilization_gpu_sum) / nullif(sum(utilization_gpu_n), 0) AS avg_utilization_gpu_pct,
       sum(utilization_memory_sum) / nullif(sum(utilization_memory_n), 0) AS avg_utilization_memory_pct,
       sum(power_draw_sum) / nullif(sum(power_draw_n), 0) AS avg_power_draw_w, max(power_draw_max_w) AS max_power_draw_w,
       sum(interval_s) / 3600 AS gpu_hours, sum(energy_kwh) AS energy_kwh,
       sum(energy_cost_micros)::bigint AS energy_cost_micros, sum(allocated_cost_micros)::bigint AS allocated_cost_micros,
       sum(used_cost_micros)::bigint AS used_cost_micros, sum(idle_cost_micros)::bigint AS idle_cost_micros,
       sum(co2e_kg) AS co2e_kg
  FROM gpu_usage_hourly_sums
 GROUP BY 1, product_name;

CREATE VIEW gpu_usage_daily_by_model AS
SELECT time_bucket(INTERVAL '1 day', bucket) AS bucket, product_name, max(currency) AS currency,
       count(DISTINCT gpu_uuid) AS gpus, sum(samples)::bigint AS samples,
       sum(utilization_gpu_sum) / nullif(sum(utilization_gpu_n), 0) AS avg_utilization_gpu_pct,
       sum(utilization_memory_sum) / nullif(sum(utilization_memory_n), 0) AS avg_utilization_memory_pct,
       sum(power_draw_sum) / nullif(sum(power_draw_n), 0) AS avg_power_draw_w, max(power_draw_max_w) AS max_power_draw_w,
       sum(interval_s) / 3600 AS gpu_hours, sum(energy_kwh) AS energy_kwh,
       sum(energy_cost_micros)::bigint AS energy_cost_micros, sum(allocated_cost_micros)::bigint AS allocated_cost_micros,
       sum(used_cost_micros)::bigint AS used_cost_micros, sum(idle_cost_micros)::bigint AS idle_cost_micros,
       sum(co2e_kg) AS co2e_kg
  FROM gpu_usage_hourly_sums
 GROUP BY 1, product_name;

-- Latest verdict of every GPU heard from in the last day.
CREATE VIEW gpu_fleet_health_now AS
SELECT DISTINCT ON (gpu_uuid)
       gpu_uuid, hostname, time, score, verdict, thermal_power, memory, pcie, nvlink, driver, reasons
  FROM gpu_health
 WHERE time > now() - INTERVAL '1 day'
 ORDER BY gpu_uuid, time DESC;

-- GPUs whose latest prediction (per model, last day) is at or above its threshold, with what the
-- GPU costs per hour (allocated cost over its last day of economics) and the expected cost:
-- probability x hourly allocated cost x horizon hours.
CREATE VIEW gpu_at_risk AS
WITH latest AS (
  SELECT DISTINCT ON (gpu_uuid, model_name) *
    FROM gpu_predictions
   WHERE time > now() - INTERVAL '1 day'
   ORDER BY gpu_uuid, model_name, time DESC
), hourly AS (
  SELECT gpu_uuid, currency, sum(allocated_cost_micros)::double precision / nullif(sum(interval_s), 0) * 3600 AS cost_micros
    FROM gpu_economics
   WHERE time > now() - INTERVAL '1 day'
   GROUP BY gpu_uuid, currency
)
SELECT l.gpu_uuid, l.hostname, l.time, l.model_name, l.model_version, l.horizon_hours, l.probability, l.threshold,
       h.currency, round(h.cost_micros)::bigint AS hourly_allocated_cost_micros,
       round(l.probability * h.cost_micros * l.horizon_hours)::bigint AS expected_cost_micros
  FROM latest l
  LEFT JOIN hourly h ON h.gpu_uuid = l.gpu_uuid
 WHERE l.probability >= l.threshold;

-- Open anomalies: the latest occurrence of each (GPU, dedup_key) seen in the last 15 minutes.
CREATE VIEW gpu_anomalies_open AS
SELECT DISTINCT ON (gpu_uuid, dedup_key)
       gpu_uuid, hostname, kind, severity, metric, value, baseline, score, dedup_key, message, time AS last_seen
  FROM gpu_anomalies
 WHERE time > now() - INTERVAL '15 minutes'
 ORDER BY gpu_uuid, dedup_key, time DESC;

-- Idle cost by host over the last 24 hours.
CREATE VIEW gpu_idle_cost_by_host AS
SELECT hostname, currency, count(DISTINCT gpu_uuid) AS gpus, sum(interval_s) / 3600 AS gpu_hours,
       sum(allocated_cost_micros)::bigint AS allocated_cost_micros, sum(idle_cost_micros)::bigint AS idle_cost_micros,
       sum(idle_cost_micros)::double precision / nullif(sum(allocated_cost_micros), 0) AS idle_share
  FROM gpu_economics
 WHERE time > now() - INTERVAL '24 hours'
 GROUP BY hostname, currency;

-- Down Migration
DROP VIEW gpu_idle_cost_by_host;
DROP VIEW gpu_anomalies_open;
DROP VIEW gpu_at_risk;
DROP VIEW gpu_fleet_health_now;
DROP VIEW gpu_usage_daily_by_model;
DROP VIEW gpu_usage_hourly_by_model;
DROP VIEW gpu_usage_daily_by_host;
DROP VIEW gpu_usage_hourly_by_host;
DROP VIEW gpu_usage_daily_by_gpu;
DROP VIEW gpu_usage_hourly_by_gpu;
DROP VIEW gpu_usage_hourly_sums;
DO $$
BEGIN
  IF current_setting('timescaledb.license') = 'apache' THEN
    DROP VIEW gpu_economics_hourly;
    DROP VIEW gpu_samples_hourly;
  ELSE
    DROP MATERIALIZED VIEW gpu_economics_hourly;
    DROP MATERIALIZED VIEW gpu_samples_hourly;
  END IF;
END
$$;

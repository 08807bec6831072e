-- Up Migration
-- Per-GPU rollups at 5 minutes and 1 hour, one per source hypertable and bucket (a continuous
-- aggregate reads one hypertable): gpu_samples_5m/_1h, gpu_health_5m/_1h, gpu_economics_5m/_1h,
-- gpu_anomalies_5m/_1h. Each is grouped by the bucket and gpu_uuid only: who and where the GPU is
-- comes from gpu_devices in the views above them, so the rollups never depend on identity columns
-- of the raw rows. Sums and counts (not averages) are kept so that any coarser bucket, host or model
-- adds them up exactly. On the community edition they are real-time continuous aggregates
-- (materialized by a refresh policy, the newest buckets computed from raw rows at query time); on
-- the Apache edition plain views of the same names and columns. docs/storage.md explains the windows.
DO $$
DECLARE
  community boolean := current_setting('timescaledb.license') <> 'apache';
  rollup record;
  bucket record;
BEGIN
  FOR rollup IN
    SELECT * FROM (VALUES
      ('gpu_samples', $q$count(*) AS samples,
        count(utilization_gpu_pct) AS utilization_gpu_n, sum(utilization_gpu_pct::double precision) AS utilization_gpu_sum,
        max(utilization_gpu_pct)::double precision AS utilization_gpu_max_pct,
        count(utilization_memory_pct) AS utilization_memory_n, sum(utilization_memory_pct::double precision) AS utilization_memory_sum,
        count(memory_used_mib) AS memory_used_n, sum(memory_used_mib::double precision) AS memory_used_sum,
        max(memory_used_mib)::double precision AS memory_used_max_mib,
        count(power_draw_w) AS power_draw_n, sum(power_draw_w::double precision) AS power_draw_sum,
        max(power_draw_w)::double precision AS power_draw_max_w,
        count(temperature_gpu_c) AS temperature_gpu_n, sum(temperature_gpu_c::double precision) AS temperature_gpu_sum,
        max(temperature_gpu_c)::double precision AS temperature_gpu_max_c,
        count(temperature_memory_c) AS temperature_memory_n, sum(temperature_memory_c::double precision) AS temperature_memory_sum,
        max(temperature_memory_c)::double precision AS temperature_memory_max_c$q$),
      ('gpu_health', $q$count(*) AS health_n, sum(score) AS score_sum, min(score) AS score_min,
        count(*) FILTER (WHERE verdict = 'WARN') AS warn_n, count(*) FILTER (WHERE verdict = 'FAIL') AS fail_n$q$),
      ('gpu_economics', $q$max(currency) AS currency, sum(interval_s) AS interval_s, sum(energy_kwh) AS energy_kwh,
        sum(energy_cost_micros) AS energy_cost_micros, sum(allocated_cost_micros) AS allocated_cost_micros,
        sum(used_cost_micros) AS used_cost_micros, sum(idle_cost_micros) AS idle_cost_micros, sum(co2e_kg) AS co2e_kg$q$),
      ('gpu_anomalies', $q$count(*) AS anomalies, count(*) FILTER (WHERE severity = 'CRITICAL') AS critical_anomalies$q$)
    ) AS r (source, measures)
  LOOP
    -- start_offset: how far back a refresh re-reads, the late-data window (compression starts at 2
    -- days, migration 0007); end_offset: the newest, still filling, buckets are left to real time.
    -- kept: the rollups outlive the raw samples (30 days): 5-minute detail for a quarter, hours for
    -- as long as the economics (395 days). compress_after: once past the refresh window, which
    -- then never rewrites a compressed bucket.
    FOR bucket IN
      SELECT * FROM (VALUES ('5m', INTERVAL '5 minutes', INTERVAL '2 days', INTERVAL '10 minutes', INTERVAL '5 minutes', INTERVAL '90 days', INTERVAL '3 days'),
                            ('1h', INTERVAL '1 hour', INTERVAL '3 days', INTERVAL '1 hour', INTERVAL '30 minutes', INTERVAL '395 days', INTERVAL '4 days'))
        AS b (suffix, width, start_offset, end_offset, schedule, kept, compress_after)
    LOOP
      IF community THEN
        EXECUTE format(
          'CREATE MATERIALIZED VIEW %I WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
             SELECT time_bucket(%L::interval, time) AS bucket, gpu_uuid, %s FROM %I GROUP BY 1, gpu_uuid WITH NO DATA',
          rollup.source || '_' || bucket.suffix, bucket.width, rollup.measures, rollup.source);
        PERFORM add_continuous_aggregate_policy((rollup.source || '_' || bucket.suffix)::regclass,
          start_offset => bucket.start_offset, end_offset => bucket.end_offset, schedule_interval => bucket.schedule);
        PERFORM add_retention_policy((rollup.source || '_' || bucket.suffix)::regclass, bucket.kept);
        -- Segmented by gpu_uuid (the grouping column), newest first, like the raw tables.
        EXECUTE format('ALTER MATERIALIZED VIEW %I SET (timescaledb.compress = true)', rollup.source || '_' || bucket.suffix);
        PERFORM add_compression_policy((rollup.source || '_' || bucket.suffix)::regclass, compress_after => bucket.compress_after);
      ELSE
        EXECUTE format('CREATE VIEW %I AS SELECT time_bucket(%L::interval, time) AS bucket, gpu_uuid, %s FROM %I GROUP BY 1, gpu_uuid',
          rollup.source || '_' || bucket.suffix, bucket.width, rollup.measures, rollup.source);
      END IF;
      EXECUTE format('GRANT SELECT ON %I TO gpu_analyst', rollup.source || '_' || bucket.suffix);
    END LOOP;
  END LOOP;
END
$$;

-- Every measure of a GPU and bucket side by side, with the GPU's host and model from gpu_devices:
-- what a dashboard or an analyst reads. Full joins: a bucket with economics but no samples (samples
-- dropped by retention) or samples but no health still has its row.
DO $$
DECLARE
  suffix text;
BEGIN
  FOREACH suffix IN ARRAY ARRAY['5m', '1h'] LOOP
    EXECUTE format($v$
      CREATE VIEW %1$I AS
      SELECT k.bucket, k.gpu_uuid, d.hostname, d.product_name, e.currency,
             coalesce(s.samples, 0) AS samples,
             s.utilization_gpu_sum / nullif(s.utilization_gpu_n, 0) AS avg_utilization_gpu_pct, s.utilization_gpu_max_pct,
             s.utilization_memory_sum / nullif(s.utilization_memory_n, 0) AS avg_utilization_memory_pct,
             s.memory_used_sum / nullif(s.memory_used_n, 0) AS avg_memory_used_mib, s.memory_used_max_mib,
             s.power_draw_sum / nullif(s.power_draw_n, 0) AS avg_power_draw_w, s.power_draw_max_w,
             s.temperature_gpu_sum / nullif(s.temperature_gpu_n, 0) AS avg_temperature_gpu_c, s.temperature_gpu_max_c,
             s.temperature_memory_sum / nullif(s.temperature_memory_n, 0) AS avg_temperature_memory_c, s.temperature_memory_max_c,
             h.score_sum::double precision / nullif(h.health_n, 0) AS avg_health_score, h.score_min AS min_health_score,
             coalesce(h.warn_n, 0) AS health_warn_n, coalesce(h.fail_n, 0) AS health_fail_n,
             e.interval_s / 3600 AS gpu_hours, e.energy_kwh, e.energy_cost_micros::bigint AS energy_cost_micros,
             e.allocated_cost_micros::bigint AS allocated_cost_micros, e.used_cost_micros::bigint AS used_cost_micros,
             e.idle_cost_micros::bigint AS idle_cost_micros, e.co2e_kg,
             coalesce(a.anomalies, 0) AS anomalies, coalesce(a.critical_anomalies, 0) AS critical_anomalies
        FROM (SELECT bucket, gpu_uuid FROM %2$I UNION SELECT bucket, gpu_uuid FROM %3$I
              UNION SELECT bucket, gpu_uuid FROM %4$I UNION SELECT bucket, gpu_uuid FROM %5$I) AS k
        LEFT JOIN %2$I s ON s.bucket = k.bucket AND s.gpu_uuid = k.gpu_uuid
        LEFT JOIN %3$I h ON h.bucket = k.bucket AND h.gpu_uuid = k.gpu_uuid
        LEFT JOIN %4$I e ON e.bucket = k.bucket AND e.gpu_uuid = k.gpu_uuid
        LEFT JOIN %5$I a ON a.bucket = k.bucket AND a.gpu_uuid = k.gpu_uuid
        LEFT JOIN gpu_devices d ON d.gpu_uuid = k.gpu_uuid$v$,
      'gpu_rollup_' || suffix, 'gpu_samples_' || suffix, 'gpu_health_' || suffix, 'gpu_economics_' || suffix, 'gpu_anomalies_' || suffix);
    EXECUTE format('GRANT SELECT ON %I TO gpu_analyst', 'gpu_rollup_' || suffix);
  END LOOP;
END
$$;

-- The hourly usage views (0009) now read the hourly rollups: same columns and meaning, host and
-- model taken from gpu_devices (where the GPU is now) rather than from each hour's rows.
CREATE OR REPLACE VIEW gpu_usage_hourly_sums AS
SELECT p.bucket, p.gpu_uuid, d.hostname, d.product_name, p.currency,
       p.samples, p.utilization_gpu_n, p.utilization_gpu_sum, p.utilization_memory_n, p.utilization_memory_sum,
       p.power_draw_n, p.power_draw_sum, p.power_draw_max_w,
       p.interval_s, p.energy_kwh, p.energy_cost_micros, p.allocated_cost_micros, p.used_cost_micros, p.idle_cost_micros, p.co2e_kg
  FROM (
    SELECT bucket, gpu_uuid, max(currency) AS currency,
           sum(samples)::bigint AS samples,
           sum(utilization_gpu_n)::bigint AS utilization_gpu_n, sum(utilization_gpu_sum) AS utilization_gpu_sum,
           sum(utilization_memory_n)::bigint AS utilization_memory_n, sum(utilization_memory_sum) AS utilization_memory_sum,
           sum(power_draw_n)::bigint AS power_draw_n, sum(power_draw_sum) AS power_draw_sum, max(power_draw_max_w) AS power_draw_max_w,
           sum(interval_s) AS interval_s, sum(energy_kwh) AS energy_kwh,
           sum(energy_cost_micros)::bigint AS energy_cost_micros, sum(allocated_cost_micros)::bigint AS allocated_cost_micros,
           sum(used_cost_micros)::bigint AS used_cost_micros, sum(idle_cost_micros)::bigint AS idle_cost_micros,
           sum(co2e_kg) AS co2e_kg
      FROM (
        SELECT bucket, gpu_uuid, NULL::text AS currency,
               samples, utilization_gpu_n, utilization_gpu_sum, utilization_memory_n, utilization_memory_sum,
               power_draw_n, power_draw_sum, power_draw_max_w,
               NULL::double precision AS interval_s, NULL::double precision AS energy_kwh, NULL::numeric AS energy_cost_micros,
               NULL::numeric AS allocated_cost_micros, NULL::numeric AS used_cost_micros, NULL::numeric AS idle_cost_micros,
               NULL::double precision AS co2e_kg
          FROM gpu_samples_1h
        UNION ALL
        SELECT bucket, gpu_uuid, currency, 0, 0, NULL, 0, NULL, 0, NULL, NULL,
               interval_s, energy_kwh, energy_cost_micros, allocated_cost_micros, used_cost_micros, idle_cost_micros, co2e_kg
          FROM gpu_economics_1h
      ) AS parts
     GROUP BY bucket, gpu_uuid
  ) AS p
  LEFT JOIN gpu_devices d ON d.gpu_uuid = p.gpu_uuid;

-- gpu_samples_hourly and gpu_economics_hourly (0009's aggregates) stay, as views of the hourly
-- rollups with their old columns, for the queries and dashboards that name them. (0014 made
-- gpu_samples_hourly a plain view on every edition; gpu_economics_hourly is still 0009's.)
DROP VIEW gpu_samples_hourly;
DO $$
BEGIN
  IF current_setting('timescaledb.license') = 'apache' THEN
    DROP VIEW gpu_economics_hourly;
  ELSE
    DROP MATERIALIZED VIEW gpu_economics_hourly;
  END IF;
END
$$;
CREATE VIEW gpu_samples_hourly AS
SELECT s.bucket, s.gpu_uuid, d.hostname, d.product_name, s.samples, s.utilization_gpu_n, s.utilization_gpu_sum,
       s.utilization_memory_n, s.utilization_memory_sum, s.power_draw_n, s.power_draw_sum, s.power_draw_max_w
  FROM gpu_samples_1h s
  LEFT JOIN gpu_devices d ON d.gpu_uuid = s.gpu_uuid;
CREATE VIEW gpu_economics_hourly AS
SELECT e.bucket, e.gpu_uuid, d.hostname, d.product_name, e.currency, e.interval_s, e.energy_kwh, e.energy_cost_micros,
       e.allocated_cost_micros, e.used_cost_micros, e.idle_cost_micros, e.co2e_kg
  FROM gpu_economics_1h e
  LEFT JOIN gpu_devices d ON d.gpu_uuid = e.gpu_uuid;
GRANT SELECT ON gpu_samples_hourly, gpu_economics_hourly TO gpu_analyst;

-- A DELETE or UPDATE whose filter is not the segment column (gpu_uuid) decompresses every batch it
-- may touch; TimescaleDB refuses one past 100,000 tuples ("tuple decompression limit exceeded").
-- Owner maintenance (pruning a host's rows, the tests' cleanup) must work on compressed chunks, so
-- this database lifts the limit. Without ownership of the database it stays, with a notice.
DO $$
BEGIN
  IF current_setting('timescaledb.license') <> 'apache' THEN
    EXECUTE format('ALTER DATABASE %I SET timescaledb.max_tuples_decompressed_per_dml_transaction = 0', current_database());
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'not the owner of database %: DELETE and UPDATE on compressed chunks keep TimescaleDB''s limit of 100,000 decompressed tuples', current_database();
END
$$;

-- Down Migration
DO $$
BEGIN
  IF current_setting('timescaledb.license') <> 'apache' THEN
    EXECUTE format('ALTER DATABASE %I RESET timescaledb.max_tuples_decompressed_per_dml_transaction', current_database());
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  NULL;
END
$$;
DROP VIEW gpu_economics_hourly;
DROP VIEW gpu_samples_hourly;
-- 0014's gpu_samples_hourly (a plain view on every edition) and 0009's gpu_economics_hourly.
CREATE VIEW gpu_samples_hourly AS
SELECT r.bucket, r.gpu_uuid, dev.hostname, dev.product_name, r.samples,
       r.utilization_gpu_n, r.utilization_gpu_sum, r.utilization_memory_n, r.utilization_memory_sum,
       r.power_draw_n, r.power_draw_sum, r.power_draw_max_w
  FROM (
    SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, gpu_uuid,
           count(*) AS samples,
           count(utilization_gpu_pct) AS utilization_gpu_n, sum(utilization_gpu_pct::double precision) AS utilization_gpu_sum,
           count(utilization_memory_pct) AS utilization_memory_n, sum(utilization_memory_pct::double precision) AS utilization_memory_sum,
           count(power_draw_w) AS power_draw_n, sum(power_draw_w::double precision) AS power_draw_sum,
           max(power_draw_w)::double precision AS power_draw_max_w
      FROM gpu_samples
     GROUP BY time_bucket(INTERVAL '1 hour', time), gpu_uuid
  ) AS r
  LEFT JOIN LATERAL gpu_device_at(r.gpu_uuid, r.bucket + INTERVAL '1 hour' - INTERVAL '1 microsecond') AS dev ON true;
DO $$
DECLARE
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
    EXECUTE 'CREATE VIEW gpu_economics_hourly AS' || economics_hourly;
  ELSE
    EXECUTE 'CREATE MATERIALIZED VIEW gpu_economics_hourly WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS'
      || economics_hourly || ' WITH NO DATA';
    PERFORM add_continuous_aggregate_policy('gpu_economics_hourly', start_offset => INTERVAL '3 days',
      end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes');
  END IF;
END
$$;
GRANT SELECT ON gpu_samples_hourly, gpu_economics_hourly TO gpu_analyst;
-- 0014's gpu_usage_hourly_sums, over the views just restored.
CREATE OR REPLACE VIEW gpu_usage_hourly_sums AS
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
DROP VIEW gpu_rollup_1h;
DROP VIEW gpu_rollup_5m;
DO $$
DECLARE
  name text;
BEGIN
  FOREACH name IN ARRAY ARRAY['gpu_anomalies_1h', 'gpu_anomalies_5m', 'gpu_economics_1h', 'gpu_economics_5m',
                              'gpu_health_1h', 'gpu_health_5m', 'gpu_samples_1h', 'gpu_samples_5m'] LOOP
    IF current_setting('timescaledb.license') = 'apache' THEN
      EXECUTE format('DROP VIEW %I', name);
    ELSE
      EXECUTE format('DROP MATERIALIZED VIEW %I', name);
    END IF;
  END LOOP;
END
$$;

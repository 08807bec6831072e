-- Up Migration
-- Lean sample rows (issue 15). Measured on 48,000 simulated samples (attribution on), written by the
-- sink: a gpu_samples row was 1,917 bytes with its indexes, 298 once compressed. Of that:
--   * features (46 rolling-window values as jsonb): 832 bytes a row; 257 of the 298 compressed bytes.
--     As real[] they still cost 200 bytes raw and 90 compressed (the values change every reading,
--     so they do not compress). No view, dashboard or processor reads them from the database: the
--     processors get them in the records, a prediction keeps its top features with their values
--     (gpu_predictions.top_features), and they are a function of the readings (producers/features
--     recomputes them from the samples). So gpu_samples no longer stores them.
--   * what describes the GPU rather than its reading (host, serial, PCI bus, product, architecture,
--     driver, CUDA and VBIOS versions, limits, clock maxima, temperature thresholds, totals): about
--     230 bytes a row, repeated every 10 s. They live in gpu_devices (the latest) and
--     gpu_device_configs (one row per change: a driver upgrade, a move to another host, a new power
--     limit), which the sink writes only when something changed.
--   * readings were double precision: real (6 significant digits) holds every nvidia-smi value as
--     printed (at most 2 decimals, MiB up to 16 million exactly); small integer codes are smallint.
-- gpu_samples is rebuilt, not altered: column types cannot change on a hypertable with compression
-- enabled, and copying writes the rows once in their new layout. On a large database this reads
-- every sample once (compressed chunks included) inside this migration's transaction.

-- The views over gpu_samples are remade below with the same columns and meaning.
DROP VIEW gpu_at_risk_workloads;
DROP VIEW gpu_fault_workloads;
DROP VIEW gpu_fault_events;
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
    DROP VIEW gpu_samples_hourly;
  ELSE
    DROP MATERIALIZED VIEW gpu_samples_hourly;
    PERFORM remove_retention_policy('gpu_samples', if_exists => true);
    PERFORM remove_compression_policy('gpu_samples', if_exists => true);
  END IF;
END
$$;
ALTER TABLE gpu_samples RENAME TO gpu_samples_0013;
ALTER INDEX gpu_samples_key RENAME TO gpu_samples_0013_key;
ALTER INDEX gpu_samples_fault_candidates RENAME TO gpu_samples_0013_fault_candidates;

-- gpu_devices keeps its columns and gains the rest of what a sample says about its GPU.
ALTER TABLE gpu_devices
  ADD COLUMN source                      text,
  ADD COLUMN gpu_index                   smallint,
  ADD COLUMN pci_bus_id                  text,
  ADD COLUMN architecture                text,
  ADD COLUMN cuda_version                text,
  ADD COLUMN vbios_version               text,
  ADD COLUMN nvsmi_schema                text,
  ADD COLUMN memory_total_mib            real,
  ADD COLUMN bar1_total_mib              real,
  ADD COLUMN temperature_shutdown_c      real,
  ADD COLUMN temperature_slowdown_c      real,
  ADD COLUMN temperature_max_operating_c real,
  ADD COLUMN temperature_memory_max_c    real,
  ADD COLUMN power_limit_w               real,
  ADD COLUMN power_limit_default_w       real,
  ADD COLUMN power_limit_min_w           real,
  ADD COLUMN power_limit_max_w           real,
  ADD COLUMN clock_graphics_max_mhz      real,
  ADD COLUMN clock_sm_max_mhz            real,
  ADD COLUMN clock_memory_max_mhz        real,
  ADD COLUMN pcie_link_gen_max           smallint,
  ADD COLUMN pcie_link_width_max         smallint;

-- Each configuration a GPU has had, from the first reading that showed it (valid_from) until the
-- next one (gpu_device_history adds valid_to). The sink adds a row only when a reading differs
-- from the configuration in effect at its time: a replay, or late data, adds nothing.
CREATE TABLE gpu_device_configs (
  gpu_uuid                    text NOT NULL,
  valid_from                  timestamptz NOT NULL,
  hostname                    text NOT NULL,
  source                      text,
  gpu_index                   smallint,
  serial                      text,
  pci_bus_id                  text,
  product_name                text,
  architecture                text,
  driver_version              text,
  cuda_version                text,
  vbios_version               text,
  nvsmi_schema                text,
  memory_total_mib            real,
  bar1_total_mib              real,
  temperature_shutdown_c      real,
  temperature_slowdown_c      real,
  temperature_max_operating_c real,
  temperature_memory_max_c    real,
  power_limit_w               real,
  power_limit_default_w       real,
  power_limit_min_w           real,
  power_limit_max_w           real,
  clock_graphics_max_mhz      real,
  clock_sm_max_mhz            real,
  clock_memory_max_mhz        real,
  pcie_link_gen_max           smallint,
  pcie_link_width_max         smallint,
  PRIMARY KEY (gpu_uuid, valid_from)
);
CREATE INDEX gpu_device_configs_host ON gpu_device_configs (hostname);

CREATE VIEW gpu_device_history AS
SELECT c.*, lead(c.valid_from) OVER (PARTITION BY c.gpu_uuid ORDER BY c.valid_from) AS valid_to
  FROM gpu_device_configs c;

-- gpu.samples.v1 as stored: the readings. Names as in the Avro schema; migrate.test.ts checks them
-- against the sink's column list (sinks/timescaledb/src/tables.ts).
CREATE TABLE gpu_samples (
  time                                 timestamptz NOT NULL,
  gpu_uuid                             text NOT NULL,
  utilization_gpu_pct                  real,
  utilization_memory_pct               real,
  utilization_encoder_pct              real,
  utilization_decoder_pct              real,
  memory_used_mib                      real,
  memory_free_mib                      real,
  memory_reserved_mib                  real,
  bar1_used_mib                        real,
  temperature_gpu_c                    real,
  temperature_memory_c                 real,
  power_draw_w                         real,
  power_draw_average_w                 real,
  clock_graphics_mhz                   real,
  clock_sm_mhz                         real,
  clock_memory_mhz                     real,
  clock_video_mhz                      real,
  performance_state                    smallint,
  fan_speed_pct                        real,
  throttle_gpu_idle                    boolean,
  throttle_applications_clocks_setting boolean,
  throttle_sw_power_cap                boolean,
  throttle_hw_slowdown                 boolean,
  throttle_hw_thermal_slowdown         boolean,
  throttle_hw_power_brake_slowdown     boolean,
  throttle_sw_thermal_slowdown         boolean,
  throttle_sync_boost                  boolean,
  throttle_display_clocks_setting      boolean,
  ecc_mode_enabled                     boolean,
  ecc_volatile_sbe                     bigint,
  ecc_volatile_dbe                     bigint,
  ecc_aggregate_sbe                    bigint,
  ecc_aggregate_dbe                    bigint,
  retired_pages_sbe                    bigint,
  retired_pages_dbe                    bigint,
  retired_pages_pending                boolean,
  remapped_rows_correctable            bigint,
  remapped_rows_uncorrectable          bigint,
  remapped_rows_pending                boolean,
  remapped_rows_failure                boolean,
  pcie_link_gen                        smallint,
  pcie_link_width                      smallint,
  pcie_replay_count                    bigint,
  pcie_replay_rollover_count           bigint,
  pcie_tx_kbps                         real,
  pcie_rx_kbps                         real,
  process_count                        smallint,
  mig_mode_enabled                     boolean,
  mig_instances                        jsonb NOT NULL,
  xid_events                           jsonb NOT NULL,
  gpu_lost                             boolean NOT NULL DEFAULT false,
  simulated_fault                      jsonb,
  interval_s                           real,
  temperature_slowdown_margin_c        real,
  processes                            jsonb,
  attribution_problems                 jsonb NOT NULL DEFAULT '[]'
);
SELECT create_hypertable('gpu_samples', by_range('time', INTERVAL '6 hours'));

-- The history, from the old rows: a configuration row wherever a GPU's description changed from
-- its previous reading (lost samples repeat the last identity and are no sighting).
INSERT INTO gpu_device_configs
SELECT gpu_uuid, time, hostname, source, gpu_index, serial, pci_bus_id, product_name, architecture, driver_version,
       cuda_version, vbios_version, nvsmi_schema, memory_total_mib, bar1_total_mib, temperature_shutdown_c,
       temperature_slowdown_c, temperature_max_operating_c, temperature_memory_max_c, power_limit_w, power_limit_default_w,
       power_limit_min_w, power_limit_max_w, clock_graphics_max_mhz, clock_sm_max_mhz, clock_memory_max_mhz,
       pcie_link_gen_max, pcie_link_width_max
  FROM (
    SELECT s.*, c.config, lag(c.config) OVER (PARTITION BY s.gpu_uuid ORDER BY s.time) AS previous
      FROM gpu_samples_0013 s
     CROSS JOIN LATERAL (
       SELECT ROW(s.hostname, s.source, s.gpu_index, s.serial, s.pci_bus_id, s.product_name, s.architecture, s.driver_version,
                  s.cuda_version, s.vbios_version, s.nvsmi_schema, s.memory_total_mib::real, s.bar1_total_mib::real,
                  s.temperature_shutdown_c::real, s.temperature_slowdown_c::real, s.temperature_max_operating_c::real,
                  s.temperature_memory_max_c::real, s.power_limit_w::real, s.power_limit_default_w::real,
                  s.power_limit_min_w::real, s.power_limit_max_w::real, s.clock_graphics_max_mhz::real,
                  s.clock_sm_max_mhz::real, s.clock_memory_max_mhz::real, s.pcie_link_gen_max::smallint,
                  s.pcie_link_width_max::smallint)::text AS config
     ) AS c
     WHERE NOT s.gpu_lost
  ) AS changes
 WHERE previous IS DISTINCT FROM config;

UPDATE gpu_devices d
   SET source = c.source, gpu_index = c.gpu_index, pci_bus_id = c.pci_bus_id, architecture = c.architecture,
       cuda_version = c.cuda_version, vbios_version = c.vbios_version, nvsmi_schema = c.nvsmi_schema,
       memory_total_mib = c.memory_total_mib, bar1_total_mib = c.bar1_total_mib,
       temperature_shutdown_c = c.temperature_shutdown_c, temperature_slowdown_c = c.temperature_slowdown_c,
       temperature_max_operating_c = c.temperature_max_operating_c, temperature_memory_max_c = c.temperature_memory_max_c,
       power_limit_w = c.power_limit_w, power_limit_default_w = c.power_limit_default_w, power_limit_min_w = c.power_limit_min_w,
       power_limit_max_w = c.power_limit_max_w, clock_graphics_max_mhz = c.clock_graphics_max_mhz,
       clock_sm_max_mhz = c.clock_sm_max_mhz, clock_memory_max_mhz = c.clock_memory_max_mhz,
       pcie_link_gen_max = c.pcie_link_gen_max, pcie_link_width_max = c.pcie_link_width_max
  FROM (SELECT DISTINCT ON (gpu_uuid) * FROM gpu_device_configs ORDER BY gpu_uuid, valid_from DESC) AS c
 WHERE c.gpu_uuid = d.gpu_uuid;

INSERT INTO gpu_samples (
  time, gpu_uuid, utilization_gpu_pct, utilization_memory_pct, utilization_encoder_pct,
  utilization_decoder_pct, memory_used_mib, memory_free_mib, memory_reserved_mib, bar1_used_mib,
  temperature_gpu_c, temperature_memory_c, power_draw_w, power_draw_average_w, clock_graphics_mhz,
  clock_sm_mhz, clock_memory_mhz, clock_video_mhz, performance_state, fan_speed_pct, throttle_gpu_idle,
  throttle_applications_clocks_setting, throttle_sw_power_cap, throttle_hw_slowdown,
  throttle_hw_thermal_slowdown, throttle_hw_power_brake_slowdown, throttle_sw_thermal_slowdown,
  throttle_sync_boost, throttle_display_clocks_setting, ecc_mode_enabled, ecc_volatile_sbe, ecc_volatile_dbe,
  ecc_aggregate_sbe, ecc_aggregate_dbe, retired_pages_sbe, retired_pages_dbe, retired_pages_pending,
  remapped_rows_correctable, remapped_rows_uncorrectable, remapped_rows_pending, remapped_rows_failure,
  pcie_link_gen, pcie_link_width, pcie_replay_count, pcie_replay_rollover_count, pcie_tx_kbps, pcie_rx_kbps,
  process_count, mig_mode_enabled, mig_instances, xid_events, gpu_lost, simulated_fault, interval_s,
  temperature_slowdown_margin_c, processes, attribution_problems)
SELECT
  time, gpu_uuid, utilization_gpu_pct, utilization_memory_pct, utilization_encoder_pct,
  utilization_decoder_pct, memory_used_mib, memory_free_mib, memory_reserved_mib, bar1_used_mib,
  temperature_gpu_c, temperature_memory_c, power_draw_w, power_draw_average_w, clock_graphics_mhz,
  clock_sm_mhz, clock_memory_mhz, clock_video_mhz, performance_state, fan_speed_pct, throttle_gpu_idle,
  throttle_applications_clocks_setting, throttle_sw_power_cap, throttle_hw_slowdown,
  throttle_hw_thermal_slowdown, throttle_hw_power_brake_slowdown, throttle_sw_thermal_slowdown,
  throttle_sync_boost, throttle_display_clocks_setting, ecc_mode_enabled, ecc_volatile_sbe, ecc_volatile_dbe,
  ecc_aggregate_sbe, ecc_aggregate_dbe, retired_pages_sbe, retired_pages_dbe, retired_pages_pending,
  remapped_rows_correctable, remapped_rows_uncorrectable, remapped_rows_pending, remapped_rows_failure,
  pcie_link_gen, pcie_link_width, pcie_replay_count, pcie_replay_rollover_count, pcie_tx_kbps, pcie_rx_kbps,
  process_count, mig_mode_enabled, mig_instances, xid_events, gpu_lost, simulated_fault, interval_s,
  temperature_slowdown_margin_c, processes, attribution_problems
  FROM gpu_samples_0013;
DROP TABLE gpu_samples_0013;

CREATE UNIQUE INDEX gpu_samples_key ON gpu_samples (gpu_uuid, time);
-- As in 0013, word for word with gpu_fault_events' filter.
CREATE INDEX gpu_samples_fault_candidates ON gpu_samples (time DESC, gpu_uuid)
  WHERE xid_events @? '$[*] ? (@.code == 48 || @.code == 63 || @.code == 64 || @.code == 79 || @.code == 119)'
     OR ecc_volatile_dbe > 0 OR remapped_rows_failure OR throttle_hw_thermal_slowdown;

-- Compression and retention as 0007 gave the old table (policies where the edition has them).
DO $$
BEGIN
  IF current_setting('timescaledb.license') = 'apache' THEN
    RETURN;
  END IF;
  ALTER TABLE gpu_samples SET (timescaledb.compress, timescaledb.compress_segmentby = 'gpu_uuid', timescaledb.compress_orderby = 'time DESC');
  PERFORM add_compression_policy('gpu_samples', INTERVAL '2 days');
  PERFORM add_retention_policy('gpu_samples', (SELECT drop_after FROM gpu_retention WHERE hypertable_name = 'gpu_samples'));
END
$$;

-- A GPU's host and model at a time: the configuration in effect then, else (a time before its first
-- configuration, or a GPU known only from lost samples) what gpu_devices knows. Inlined by the planner.
CREATE FUNCTION gpu_device_at(gpu text, at timestamptz) RETURNS TABLE (hostname text, product_name text)
LANGUAGE sql STABLE AS $$
  SELECT coalesce(c.hostname, d.hostname), coalesce(c.product_name, d.product_name)
    FROM gpu_devices d
    LEFT JOIN LATERAL (
      SELECT hostname, product_name FROM gpu_device_configs
       WHERE gpu_uuid = d.gpu_uuid AND valid_from <= at
       ORDER BY valid_from DESC
       LIMIT 1
    ) AS c ON true
   WHERE d.gpu_uuid = gpu
$$;

-- Per GPU and hour, named by the host and model of the GPU at the end of that hour. A plain view on
-- every edition: migration 0015 puts continuous aggregates (grouped by GPU and bucket only) under it.
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

-- As in 0013; the host is the GPU's at the sample's time.
-- Critical events, one row each: a sample whose double-bit ECC count rose, whose row remapping
-- failed or whose GPU went into hardware thermal slowdown (each compared with the GPU's previous
-- sample within the hour: the onset, not every sample while it lasts), and every Xid 48, 63, 64,
-- 79 or 119 the sample carries. time is the sample's: it keys the workloads of that sample.
CREATE VIEW gpu_fault_events AS
SELECT s.time, s.gpu_uuid, dev.hostname, e.kind, e.xid, e.detail
  FROM gpu_samples s
  LEFT JOIN LATERAL gpu_device_at(s.gpu_uuid, s.time) AS dev ON true
  LEFT JOIN LATERAL (
    SELECT p.ecc_volatile_dbe, p.remapped_rows_failure, p.throttle_hw_thermal_slowdown
      FROM gpu_samples p
     WHERE p.gpu_uuid = s.gpu_uuid AND p.time < s.time AND p.time >= s.time - INTERVAL '1 hour' AND NOT p.gpu_lost
     ORDER BY p.time DESC
     LIMIT 1
  ) AS prev ON true
  CROSS JOIN LATERAL (
    SELECT 'ecc_dbe' AS kind, NULL::integer AS xid,
           format('ecc_volatile_dbe %s, was %s', s.ecc_volatile_dbe, coalesce(prev.ecc_volatile_dbe::text, 'unknown')) AS detail
     WHERE s.ecc_volatile_dbe > coalesce(prev.ecc_volatile_dbe, 0)
    UNION ALL
    SELECT 'row_remap_failure', NULL, 'remapped_rows_failure'
     WHERE s.remapped_rows_failure AND NOT coalesce(prev.remapped_rows_failure, false)
    UNION ALL
    SELECT 'thermal_slowdown', NULL, 'throttle_hw_thermal_slowdown'
     WHERE s.throttle_hw_thermal_slowdown AND NOT coalesce(prev.throttle_hw_thermal_slowdown, false)
    UNION ALL
    SELECT 'xid', (x ->> 'code')::integer, x ->> 'message'
      FROM jsonb_array_elements(s.xid_events) AS x
     WHERE (x ->> 'code')::integer IN (48, 63, 64, 79, 119)
  ) AS e
 WHERE s.xid_events @? '$[*] ? (@.code == 48 || @.code == 63 || @.code == 64 || @.code == 79 || @.code == 119)'
    OR s.ecc_volatile_dbe > 0 OR s.remapped_rows_failure OR s.throttle_hw_thermal_slowdown;

-- Each critical event with the workloads on its GPU in that sample (a row with null workload
-- columns when none was there, or attribution was off).
CREATE VIEW gpu_fault_workloads AS
SELECT f.time, f.gpu_uuid, f.hostname, f.kind, f.xid, f.detail,
       ws.workload_id, w.kind AS workload_kind, w.cluster, w.namespace, w.pod, w.container, w.job_id, w.job_user,
       w.account, w.partition, ws.device_uuid, ws.gpu_instance_id, ws.pids, ws.used_memory_mib
  FROM gpu_fault_events f
  LEFT JOIN gpu_workload_samples ws ON ws.gpu_uuid = f.gpu_uuid AND ws.time = f.time
  LEFT JOIN gpu_workloads w ON w.workload_id = ws.workload_id;

-- gpu_at_risk's expected failure cost, split evenly among the workloads of the GPU's latest sample
-- of the last day (a failure interrupts each of them, whatever memory it holds); with none there,
-- one row with null workload columns carries the whole cost. team: the workload's latest cost part
-- on that GPU in the last day.
CREATE VIEW gpu_at_risk_workloads AS
SELECT r.gpu_uuid, r.hostname, r.model_name, r.model_version, r.probability, r.threshold, r.risk_band, r.currency,
       r.expected_cost_micros AS gpu_expected_cost_micros, s.time AS sample_time,
       count(ws.workload_id) OVER gpu AS workloads_on_gpu,
       ws.workload_id, w.kind, w.cluster, w.namespace, w.pod, w.container, w.job_id, w.job_user, w.account, w.partition,
       c.team,
       round(r.expected_cost_micros::numeric / greatest(count(ws.workload_id) OVER gpu, 1))::bigint AS expected_cost_micros
  FROM gpu_at_risk r
  LEFT JOIN LATERAL (
    SELECT time FROM gpu_samples
     WHERE gpu_uuid = r.gpu_uuid AND time > now() - INTERVAL '1 day'
     ORDER BY time DESC
     LIMIT 1
  ) AS s ON true
  LEFT JOIN gpu_workload_samples ws ON ws.gpu_uuid = r.gpu_uuid AND ws.time = s.time
  LEFT JOIN gpu_workloads w ON w.workload_id = ws.workload_id
  LEFT JOIN LATERAL (
    SELECT team FROM gpu_workload_costs
     WHERE gpu_uuid = ws.gpu_uuid AND workload_id = ws.workload_id AND time > now() - INTERVAL '1 day'
     ORDER BY time DESC
     LIMIT 1
  ) AS c ON true
WINDOW gpu AS (PARTITION BY r.gpu_uuid, r.model_name);

GRANT INSERT, SELECT ON gpu_samples, gpu_device_configs TO gpu_writer;
GRANT SELECT ON gpu_samples, gpu_device_configs, gpu_device_history, gpu_samples_hourly, gpu_usage_hourly_sums,
  gpu_usage_hourly_by_gpu, gpu_usage_daily_by_gpu, gpu_usage_hourly_by_host, gpu_usage_daily_by_host, gpu_usage_hourly_by_model,
  gpu_usage_daily_by_model, gpu_fault_events, gpu_fault_workloads, gpu_at_risk_workloads TO gpu_analyst;

-- Down Migration
-- Back to 0013's layout: the description columns refilled from the configuration in effect at each
-- sample's time; features come back empty (null), as they are not kept.
DROP VIEW gpu_at_risk_workloads;
DROP VIEW gpu_fault_workloads;
DROP VIEW gpu_fault_events;
DROP VIEW gpu_usage_daily_by_model;
DROP VIEW gpu_usage_hourly_by_model;
DROP VIEW gpu_usage_daily_by_host;
DROP VIEW gpu_usage_hourly_by_host;
DROP VIEW gpu_usage_daily_by_gpu;
DROP VIEW gpu_usage_hourly_by_gpu;
DROP VIEW gpu_usage_hourly_sums;
DROP VIEW gpu_samples_hourly;
DO $$
BEGIN
  IF current_setting('timescaledb.license') <> 'apache' THEN
    PERFORM remove_retention_policy('gpu_samples', if_exists => true);
    PERFORM remove_compression_policy('gpu_samples', if_exists => true);
  END IF;
END
$$;
ALTER TABLE gpu_samples RENAME TO gpu_samples_0014;
ALTER INDEX gpu_samples_key RENAME TO gpu_samples_0014_key;
ALTER INDEX gpu_samples_fault_candidates RENAME TO gpu_samples_0014_fault_candidates;

CREATE TABLE gpu_samples (
  time                                 timestamptz NOT NULL,
  gpu_uuid                             text NOT NULL,
  hostname                             text NOT NULL,
  source                               text NOT NULL,
  gpu_index                            integer,
  serial                               text,
  pci_bus_id                           text,
  product_name                         text,
  architecture                         text,
  driver_version                       text,
  cuda_version                         text,
  vbios_version                        text,
  nvsmi_schema                         text,
  utilization_gpu_pct                  double precision,
  utilization_memory_pct               double precision,
  utilization_encoder_pct              double precision,
  utilization_decoder_pct              double precision,
  memory_total_mib                     double precision,
  memory_used_mib                      double precision,
  memory_free_mib                      double precision,
  memory_reserved_mib                  double precision,
  bar1_total_mib                       double precision,
  bar1_used_mib                        double precision,
  temperature_gpu_c                    double precision,
  temperature_memory_c                 double precision,
  temperature_shutdown_c               double precision,
  temperature_slowdown_c               double precision,
  temperature_max_operating_c          double precision,
  temperature_memory_max_c             double precision,
  power_draw_w                         double precision,
  power_draw_average_w                 double precision,
  power_limit_w                        double precision,
  power_limit_default_w                double precision,
  power_limit_min_w                    double precision,
  power_limit_max_w                    double precision,
  clock_graphics_mhz                   double precision,
  clock_sm_mhz                         double precision,
  clock_memory_mhz                     double precision,
  clock_video_mhz                      double precision,
  clock_graphics_max_mhz               double precision,
  clock_sm_max_mhz                     double precision,
  clock_memory_max_mhz                 double precision,
  performance_state                    integer,
  fan_speed_pct                        double precision,
  throttle_gpu_idle                    boolean,
  throttle_applications_clocks_setting boolean,
  throttle_sw_power_cap                boolean,
  throttle_hw_slowdown                 boolean,
  throttle_hw_thermal_slowdown         boolean,
  throttle_hw_power_brake_slowdown     boolean,
  throttle_sw_thermal_slowdown         boolean,
  throttle_sync_boost                  boolean,
  throttle_display_clocks_setting      boolean,
  ecc_mode_enabled                     boolean,
  ecc_volatile_sbe                     bigint,
  ecc_volatile_dbe                     bigint,
  ecc_aggregate_sbe                    bigint,
  ecc_aggregate_dbe                    bigint,
  retired_pages_sbe                    bigint,
  retired_pages_dbe                    bigint,
  retired_pages_pending                boolean,
  remapped_rows_correctable            bigint,
  remapped_rows_uncorrectable          bigint,
  remapped_rows_pending                boolean,
  remapped_rows_failure                boolean,
  pcie_link_gen                        integer,
  pcie_link_gen_max                    integer,
  pcie_link_width                      integer,
  pcie_link_width_max                  integer,
  pcie_replay_count                    bigint,
  pcie_replay_rollover_count           bigint,
  pcie_tx_kbps                         double precision,
  pcie_rx_kbps                         double precision,
  process_count                        integer,
  mig_mode_enabled                     boolean,
  mig_instances                        jsonb NOT NULL,
  xid_events                           jsonb NOT NULL
);
ALTER TABLE gpu_samples
  ADD COLUMN gpu_lost        boolean NOT NULL DEFAULT false,
  ADD COLUMN features        jsonb,
  ADD COLUMN simulated_fault jsonb,
  ADD COLUMN interval_s double precision,
  ADD COLUMN temperature_slowdown_margin_c double precision,
  ADD COLUMN processes jsonb,
  ADD COLUMN attribution_problems jsonb NOT NULL DEFAULT '[]';
SELECT create_hypertable('gpu_samples', by_range('time', INTERVAL '6 hours'));
CREATE UNIQUE INDEX gpu_samples_key ON gpu_samples (gpu_uuid, time);
CREATE INDEX gpu_samples_host_time ON gpu_samples (hostname, time DESC);
CREATE INDEX gpu_samples_fault_candidates ON gpu_samples (time DESC, gpu_uuid)
  WHERE xid_events @? '$[*] ? (@.code == 48 || @.code == 63 || @.code == 64 || @.code == 79 || @.code == 119)'
     OR ecc_volatile_dbe > 0 OR remapped_rows_failure OR throttle_hw_thermal_slowdown;
INSERT INTO gpu_samples
SELECT s.time, s.gpu_uuid, coalesce(c.hostname, d.hostname), coalesce(c.source, d.source, 'UNKNOWN'), c.gpu_index, c.serial,
       c.pci_bus_id, c.product_name, c.architecture, c.driver_version, c.cuda_version, c.vbios_version, c.nvsmi_schema,
       s.utilization_gpu_pct, s.utilization_memory_pct, s.utilization_encoder_pct, s.utilization_decoder_pct,
       c.memory_total_mib, s.memory_used_mib, s.memory_free_mib, s.memory_reserved_mib, c.bar1_total_mib, s.bar1_used_mib,
       s.temperature_gpu_c, s.temperature_memory_c, c.temperature_shutdown_c, c.temperature_slowdown_c,
       c.temperature_max_operating_c, c.temperature_memory_max_c, s.power_draw_w, s.power_draw_average_w, c.power_limit_w,
       c.power_limit_default_w, c.power_limit_min_w, c.power_limit_max_w, s.clock_graphics_mhz, s.clock_sm_mhz,
       s.clock_memory_mhz, s.clock_video_mhz, c.clock_graphics_max_mhz, c.clock_sm_max_mhz, c.clock_memory_max_mhz,
       s.performance_state, s.fan_speed_pct, s.throttle_gpu_idle, s.throttle_applications_clocks_setting,
       s.throttle_sw_power_cap, s.throttle_hw_slowdown, s.throttle_hw_thermal_slowdown, s.throttle_hw_power_brake_slowdown,
       s.throttle_sw_thermal_slowdown, s.throttle_sync_boost, s.throttle_display_clocks_setting, s.ecc_mode_enabled,
       s.ecc_volatile_sbe, s.ecc_volatile_dbe, s.ecc_aggregate_sbe, s.ecc_aggregate_dbe, s.retired_pages_sbe,
       s.retired_pages_dbe, s.retired_pages_pending, s.remapped_rows_correctable, s.remapped_rows_uncorrectable,
       s.remapped_rows_pending, s.remapped_rows_failure, s.pcie_link_gen, c.pcie_link_gen_max, s.pcie_link_width,
       c.pcie_link_width_max, s.pcie_replay_count, s.pcie_replay_rollover_count, s.pcie_tx_kbps, s.pcie_rx_kbps,
       s.process_count, s.mig_mode_enabled, s.mig_instances, s.xid_events, s.gpu_lost, NULL, s.simulated_fault,
       s.interval_s, s.temperature_slowdown_margin_c, s.processes, s.attribution_problems
  FROM gpu_samples_0014 s
  LEFT JOIN gpu_devices d ON d.gpu_uuid = s.gpu_uuid
  LEFT JOIN LATERAL (
    SELECT * FROM gpu_device_configs c
     WHERE c.gpu_uuid = s.gpu_uuid
     ORDER BY c.valid_from <= s.time DESC, CASE WHEN c.valid_from <= s.time THEN c.valid_from END DESC, c.valid_from
     LIMIT 1
  ) AS c ON true;
DROP TABLE gpu_samples_0014;
DROP FUNCTION gpu_device_at(text, timestamptz);
DROP VIEW gpu_device_history;
DROP TABLE gpu_device_configs;
ALTER TABLE gpu_devices
  DROP COLUMN source, DROP COLUMN gpu_index, DROP COLUMN pci_bus_id, DROP COLUMN architecture, DROP COLUMN cuda_version,
  DROP COLUMN vbios_version, DROP COLUMN nvsmi_schema, DROP COLUMN memory_total_mib, DROP COLUMN bar1_total_mib,
  DROP COLUMN temperature_shutdown_c, DROP COLUMN temperature_slowdown_c, DROP COLUMN temperature_max_operating_c,
  DROP COLUMN temperature_memory_max_c, DROP COLUMN power_limit_w, DROP COLUMN power_limit_default_w,
  DROP COLUMN power_limit_min_w, DROP COLUMN power_limit_max_w, DROP COLUMN clock_graphics_max_mhz,
  DROP COLUMN clock_sm_max_mhz, DROP COLUMN clock_memory_max_mhz, DROP COLUMN pcie_link_gen_max,
  DROP COLUMN pcie_link_width_max;
DO $$
BEGIN
  IF current_setting('timescaledb.license') = 'apache' THEN
    RETURN;
  END IF;
  ALTER TABLE gpu_samples SET (timescaledb.compress, timescaledb.compress_segmentby = 'gpu_uuid', timescaledb.compress_orderby = 'time DESC');
  PERFORM add_compression_policy('gpu_samples', INTERVAL '2 days');
  PERFORM add_retention_policy('gpu_samples', (SELECT drop_after FROM gpu_retention WHERE hypertable_name = 'gpu_samples'));
END
$$;
-- 0009's and 0013's views, as they were.
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
BEGIN
  IF current_setting('timescaledb.license') = 'apache' THEN
    EXECUTE 'CREATE VIEW gpu_samples_hourly AS' || samples_hourly;
  ELSE
    EXECUTE 'CREATE MATERIALIZED VIEW gpu_samples_hourly WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS'
      || samples_hourly || ' WITH NO DATA';
    PERFORM add_continuous_aggregate_policy('gpu_samples_hourly', start_offset => INTERVAL '3 days',
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

-- Critical events, one row each: a sample whose double-bit ECC count rose, whose row remapping
-- failed or whose GPU went into hardware thermal slowdown (each compared with the GPU's previous
-- sample within the hour: the onset, not every sample while it lasts), and every Xid 48, 63, 64,
-- 79 or 119 the sample carries. time is the sample's: it keys the workloads of that sample.
CREATE VIEW gpu_fault_events AS
SELECT s.time, s.gpu_uuid, s.hostname, e.kind, e.xid, e.detail
  FROM gpu_samples s
  LEFT JOIN LATERAL (
    SELECT p.ecc_volatile_dbe, p.remapped_rows_failure, p.throttle_hw_thermal_slowdown
      FROM gpu_samples p
     WHERE p.gpu_uuid = s.gpu_uuid AND p.time < s.time AND p.time >= s.time - INTERVAL '1 hour' AND NOT p.gpu_lost
     ORDER BY p.time DESC
     LIMIT 1
  ) AS prev ON true
  CROSS JOIN LATERAL (
    SELECT 'ecc_dbe' AS kind, NULL::integer AS xid,
           format('ecc_volatile_dbe %s, was %s', s.ecc_volatile_dbe, coalesce(prev.ecc_volatile_dbe::text, 'unknown')) AS detail
     WHERE s.ecc_volatile_dbe > coalesce(prev.ecc_volatile_dbe, 0)
    UNION ALL
    SELECT 'row_remap_failure', NULL, 'remapped_rows_failure'
     WHERE s.remapped_rows_failure AND NOT coalesce(prev.remapped_rows_failure, false)
    UNION ALL
    SELECT 'thermal_slowdown', NULL, 'throttle_hw_thermal_slowdown'
     WHERE s.throttle_hw_thermal_slowdown AND NOT coalesce(prev.throttle_hw_thermal_slowdown, false)
    UNION ALL
    SELECT 'xid', (x ->> 'code')::integer, x ->> 'message'
      FROM jsonb_array_elements(s.xid_events) AS x
     WHERE (x ->> 'code')::integer IN (48, 63, 64, 79, 119)
  ) AS e
 WHERE s.xid_events @? '$[*] ? (@.code == 48 || @.code == 63 || @.code == 64 || @.code == 79 || @.code == 119)'
    OR s.ecc_volatile_dbe > 0 OR s.remapped_rows_failure OR s.throttle_hw_thermal_slowdown;

-- Each critical event with the workloads on its GPU in that sample (a row with null workload
-- columns when none was there, or attribution was off).
CREATE VIEW gpu_fault_workloads AS
SELECT f.time, f.gpu_uuid, f.hostname, f.kind, f.xid, f.detail,
       ws.workload_id, w.kind AS workload_kind, w.cluster, w.namespace, w.pod, w.container, w.job_id, w.job_user,
       w.account, w.partition, ws.device_uuid, ws.gpu_instance_id, ws.pids, ws.used_memory_mib
  FROM gpu_fault_events f
  LEFT JOIN gpu_workload_samples ws ON ws.gpu_uuid = f.gpu_uuid AND ws.time = f.time
  LEFT JOIN gpu_workloads w ON w.workload_id = ws.workload_id;

-- gpu_at_risk's expected failure cost, split evenly among the workloads of the GPU's latest sample
-- of the last day (a failure interrupts each of them, whatever memory it holds); with none there,
-- one row with null workload columns carries the whole cost. team: the workload's latest cost part
-- on that GPU in the last day.
CREATE VIEW gpu_at_risk_workloads AS
SELECT r.gpu_uuid, r.hostname, r.model_name, r.model_version, r.probability, r.threshold, r.risk_band, r.currency,
       r.expected_cost_micros AS gpu_expected_cost_micros, s.time AS sample_time,
       count(ws.workload_id) OVER gpu AS workloads_on_gpu,
       ws.workload_id, w.kind, w.cluster, w.namespace, w.pod, w.container, w.job_id, w.job_user, w.account, w.partition,
       c.team,
       round(r.expected_cost_micros::numeric / greatest(count(ws.workload_id) OVER gpu, 1))::bigint AS expected_cost_micros
  FROM gpu_at_risk r
  LEFT JOIN LATERAL (
    SELECT time FROM gpu_samples
     WHERE gpu_uuid = r.gpu_uuid AND time > now() - INTERVAL '1 day'
     ORDER BY time DESC
     LIMIT 1
  ) AS s ON true
  LEFT JOIN gpu_workload_samples ws ON ws.gpu_uuid = r.gpu_uuid AND ws.time = s.time
  LEFT JOIN gpu_workloads w ON w.workload_id = ws.workload_id
  LEFT JOIN LATERAL (
    SELECT team FROM gpu_workload_costs
     WHERE gpu_uuid = ws.gpu_uuid AND workload_id = ws.workload_id AND time > now() - INTERVAL '1 day'
     ORDER BY time DESC
     LIMIT 1
  ) AS c ON true
WINDOW gpu AS (PARTITION BY r.gpu_uuid, r.model_name);
GRANT SELECT ON gpu_samples, gpu_samples_hourly, gpu_usage_hourly_sums, gpu_usage_hourly_by_gpu, gpu_usage_daily_by_gpu,
  gpu_usage_hourly_by_host, gpu_usage_daily_by_host, gpu_usage_hourly_by_model, gpu_usage_daily_by_model, gpu_fault_events,
  gpu_fault_workloads, gpu_at_risk_workloads TO gpu_analyst;
GRANT INSERT, SELECT ON gpu_samples TO gpu_writer;

-- Up Migration
-- The two analyst questions of issue 15 that still read a day of raw rows (storage benchmark, 200
-- GPUs x 24 h at 10 s, compressed): cost per team per day took 4.7-6.6 s, the jobs hit by each
-- fault 4.2-6.0 s, against a 100 ms aim. docs/storage.md has the figures after this migration.

-- 1. Cost per workload, team and namespace per day read an hourly rollup of gpu_workload_costs per
-- GPU, workload, team and currency: a few rows per GPU and hour instead of one per economics
-- record and part. The daily views' distinct counts (workloads, GPUs) stay exact, since each
-- rollup row names its GPU and workload. Like 0015's rollups: a real-time continuous aggregate on
-- the community edition (refreshed over the late-data window, the newest hour computed from raw
-- rows at query time, kept as long as the costs, compressed past the refresh window), a plain
-- view of the same name and columns on the Apache edition.
DO $$
DECLARE
  rollup text := $q$
    SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, gpu_uuid, workload_id, team, currency,
           count(*) AS parts, sum(share * interval_s) AS gpu_seconds, sum(energy_kwh) AS energy_kwh,
           sum(allocated_cost_micros) AS allocated_cost_micros, sum(used_cost_micros) AS used_cost_micros,
           sum(idle_cost_micros) AS idle_cost_micros
      FROM gpu_workload_costs
     GROUP BY 1, gpu_uuid, workload_id, team, currency$q$;
BEGIN
  IF current_setting('timescaledb.license') = 'apache' THEN
    EXECUTE 'CREATE VIEW gpu_workload_costs_1h AS' || rollup;
  ELSE
    EXECUTE 'CREATE MATERIALIZED VIEW gpu_workload_costs_1h WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS'
      || rollup || ' WITH NO DATA';
    PERFORM add_continuous_aggregate_policy('gpu_workload_costs_1h', start_offset => INTERVAL '3 days',
      end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes');
    PERFORM add_retention_policy('gpu_workload_costs_1h', INTERVAL '395 days');
    -- Segmented by the GPU, as the raw rows: the default (every grouping column) would make a
    -- segment of each workload and team, a few rows each.
    ALTER MATERIALIZED VIEW gpu_workload_costs_1h SET (timescaledb.compress = true,
      timescaledb.compress_segmentby = 'gpu_uuid', timescaledb.compress_orderby = 'bucket DESC, workload_id, team, currency');
    PERFORM add_compression_policy('gpu_workload_costs_1h', compress_after => INTERVAL '4 days');
  END IF;
END
$$;
GRANT SELECT ON gpu_workload_costs_1h TO gpu_analyst;

-- Same columns and meaning as 0013's views.
CREATE OR REPLACE VIEW gpu_workload_cost_daily AS
SELECT c.bucket, c.workload_id, w.kind, w.cluster, w.namespace, w.pod, w.container, w.job_id, w.job_user, w.account,
       w.partition, c.team, c.currency, c.gpus, c.gpu_hours, c.energy_kwh, c.allocated_cost_micros, c.used_cost_micros,
       c.idle_cost_micros, c.used_cost_micros::double precision / nullif(c.allocated_cost_micros, 0) AS efficiency
  FROM (
    SELECT time_bucket(INTERVAL '1 day', bucket) AS bucket, workload_id, team, currency,
           count(DISTINCT gpu_uuid) AS gpus, sum(gpu_seconds) / 3600 AS gpu_hours, sum(energy_kwh) AS energy_kwh,
           sum(allocated_cost_micros)::bigint AS allocated_cost_micros, sum(used_cost_micros)::bigint AS used_cost_micros,
           sum(idle_cost_micros)::bigint AS idle_cost_micros
      FROM gpu_workload_costs_1h
     GROUP BY time_bucket(INTERVAL '1 day', bucket), workload_id, team, currency
  ) AS c
  LEFT JOIN gpu_workloads w ON w.workload_id = c.workload_id;

CREATE OR REPLACE VIEW gpu_team_cost_daily AS
SELECT time_bucket(INTERVAL '1 day', bucket) AS bucket, team, currency,
       count(DISTINCT workload_id) AS workloads, count(DISTINCT gpu_uuid) AS gpus,
       sum(gpu_seconds) / 3600 AS gpu_hours, sum(energy_kwh) AS energy_kwh,
       sum(allocated_cost_micros)::bigint AS allocated_cost_micros, sum(used_cost_micros)::bigint AS used_cost_micros,
       sum(idle_cost_micros)::bigint AS idle_cost_micros,
       sum(used_cost_micros)::double precision / nullif(sum(allocated_cost_micros), 0) AS efficiency,
       sum(idle_cost_micros)::double precision / nullif(sum(allocated_cost_micros), 0) AS idle_share
  FROM gpu_workload_costs_1h
 GROUP BY time_bucket(INTERVAL '1 day', bucket), team, currency;

-- 2. Critical events are kept as rows, written when their sample is (a trigger on gpu_samples),
-- instead of being found at query time by comparing every sample with the one before: a day of
-- compressed samples had to be decompressed for a handful of events. Same rules as 0013's view:
-- an onset is judged against the GPU's previous stored sample within the hour that was not a lost
-- GPU's. The trigger runs after the whole INSERT or COPY, so the rows of one batch see each other
-- whatever their order; a replayed sample is no insert (ON CONFLICT DO NOTHING) and adds no event.
-- What a later write cannot change: a sample that arrives after the next one of its GPU does not
-- re-judge that next one (agents send each GPU's readings in order, spooled ones included).
CREATE TABLE gpu_faults (
  time     timestamptz NOT NULL,   -- of the sample that carries it
  gpu_uuid text NOT NULL,
  kind     text NOT NULL,          -- ecc_dbe, row_remap_failure, thermal_slowdown, xid
  xid      integer,                -- the Xid code (kind xid)
  detail   text
);
-- Events are sparse: a week per chunk, like anomalies and alerts (0007). Kept as long as the samples.
SELECT create_hypertable('gpu_faults', by_range('time', INTERVAL '7 days'));
CREATE INDEX gpu_faults_gpu_time ON gpu_faults (gpu_uuid, time DESC);
INSERT INTO gpu_retention (hypertable_name, drop_after) VALUES ('gpu_faults', INTERVAL '30 days');
DO $$
BEGIN
  IF current_setting('timescaledb.license') <> 'apache' THEN
    ALTER TABLE gpu_faults SET (timescaledb.compress, timescaledb.compress_segmentby = 'gpu_uuid',
      timescaledb.compress_orderby = 'time DESC, kind, xid');
    PERFORM add_compression_policy('gpu_faults', INTERVAL '2 days');
    PERFORM add_retention_policy('gpu_faults', INTERVAL '30 days');
  END IF;
END
$$;

-- The events a stored sample raises (0013's rules), compared with the GPU's previous sample within
-- the hour. One definition for the trigger and for the rows already stored.
CREATE FUNCTION gpu_fault_events_of(s gpu_samples) RETURNS TABLE (kind text, xid integer, detail text)
LANGUAGE sql STABLE AS $$
  SELECT e.kind, e.xid, e.detail
    FROM (SELECT NULL) AS one
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
$$;

-- Run as the migrating role (the owner): the sink's login writes samples, and with them their
-- events, without a grant of its own on gpu_faults, where it could write events no sample raised.
CREATE FUNCTION gpu_samples_record_faults() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO gpu_faults (time, gpu_uuid, kind, xid, detail)
  SELECT NEW.time, NEW.gpu_uuid, e.kind, e.xid, e.detail FROM gpu_fault_events_of(NEW) AS e;
  RETURN NULL;
END
$$;

-- A sample deleted (a host's rows pruned, a test's cleanup) takes its events along.
CREATE FUNCTION gpu_samples_forget_faults() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM gpu_faults WHERE gpu_uuid = OLD.gpu_uuid AND time = OLD.time;
  RETURN NULL;
END
$$;

-- Only a sample that can raise an event calls the function: the condition is checked in the
-- executor for every row, the cheap tests first (most samples have no Xid: '[]').
CREATE TRIGGER gpu_samples_record_faults AFTER INSERT ON gpu_samples FOR EACH ROW
  WHEN (NEW.ecc_volatile_dbe > 0 OR NEW.remapped_rows_failure OR NEW.throttle_hw_thermal_slowdown
        OR (NEW.xid_events <> '[]' AND NEW.xid_events @? '$[*] ? (@.code == 48 || @.code == 63 || @.code == 64 || @.code == 79 || @.code == 119)'))
  EXECUTE FUNCTION gpu_samples_record_faults();
CREATE TRIGGER gpu_samples_forget_faults AFTER DELETE ON gpu_samples FOR EACH ROW
  WHEN (OLD.ecc_volatile_dbe > 0 OR OLD.remapped_rows_failure OR OLD.throttle_hw_thermal_slowdown
        OR (OLD.xid_events <> '[]' AND OLD.xid_events @? '$[*] ? (@.code == 48 || @.code == 63 || @.code == 64 || @.code == 79 || @.code == 119)'))
  EXECUTE FUNCTION gpu_samples_forget_faults();

-- The events of the samples already stored (the triggers above hold gpu_samples' lock from here
-- to commit, so no sample is written in between). Reads every sample once.
INSERT INTO gpu_faults (time, gpu_uuid, kind, xid, detail)
SELECT s.time, s.gpu_uuid, e.kind, e.xid, e.detail
  FROM gpu_samples s
 CROSS JOIN LATERAL gpu_fault_events_of(s) AS e
 WHERE s.ecc_volatile_dbe > 0 OR s.remapped_rows_failure OR s.throttle_hw_thermal_slowdown
    OR s.xid_events @? '$[*] ? (@.code == 48 || @.code == 63 || @.code == 64 || @.code == 79 || @.code == 119)';

-- Same columns and meaning as 0014's views.
CREATE OR REPLACE VIEW gpu_fault_events AS
SELECT f.time, f.gpu_uuid, dev.hostname, f.kind, f.xid, f.detail
  FROM gpu_faults f
  LEFT JOIN LATERAL gpu_device_at(f.gpu_uuid, f.time) AS dev ON true;

-- The workloads of each event's sample are looked up event by event (the GPU's compressed batch
-- that holds the time): as a plain join the planner hashed a day of gpu_workload_samples for one
-- event (0.4-0.9 s, against 13 ms). OFFSET 0 keeps the subquery from being pulled up into a join.
CREATE OR REPLACE VIEW gpu_fault_workloads AS
SELECT f.time, f.gpu_uuid, f.hostname, f.kind, f.xid, f.detail,
       ws.workload_id, w.kind AS workload_kind, w.cluster, w.namespace, w.pod, w.container, w.job_id, w.job_user,
       w.account, w.partition, ws.device_uuid, ws.gpu_instance_id, ws.pids, ws.used_memory_mib
  FROM gpu_fault_events f
  LEFT JOIN LATERAL (
    SELECT workload_id, device_uuid, gpu_instance_id, pids, used_memory_mib FROM gpu_workload_samples
     WHERE gpu_uuid = f.gpu_uuid AND time = f.time
    OFFSET 0
  ) AS ws ON true
  LEFT JOIN gpu_workloads w ON w.workload_id = ws.workload_id;

-- No view reads the samples that can raise an event any more: the index only cost every write.
DROP INDEX gpu_samples_fault_candidates;

GRANT SELECT ON gpu_faults TO gpu_analyst;

-- Down Migration
-- 0014's gpu_fault_workloads.
CREATE OR REPLACE VIEW gpu_fault_workloads AS
SELECT f.time, f.gpu_uuid, f.hostname, f.kind, f.xid, f.detail,
       ws.workload_id, w.kind AS workload_kind, w.cluster, w.namespace, w.pod, w.container, w.job_id, w.job_user,
       w.account, w.partition, ws.device_uuid, ws.gpu_instance_id, ws.pids, ws.used_memory_mib
  FROM gpu_fault_events f
  LEFT JOIN gpu_workload_samples ws ON ws.gpu_uuid = f.gpu_uuid AND ws.time = f.time
  LEFT JOIN gpu_workloads w ON w.workload_id = ws.workload_id;
CREATE INDEX gpu_samples_fault_candidates ON gpu_samples (time DESC, gpu_uuid)
  WHERE xid_events @? '$[*] ? (@.code == 48 || @.code == 63 || @.code == 64 || @.code == 79 || @.code == 119)'
     OR ecc_volatile_dbe > 0 OR remapped_rows_failure OR throttle_hw_thermal_slowdown;
-- 0014's gpu_fault_events.
CREATE OR REPLACE VIEW gpu_fault_events AS
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
DROP TRIGGER gpu_samples_forget_faults ON gpu_samples;
DROP TRIGGER gpu_samples_record_faults ON gpu_samples;
DROP FUNCTION gpu_samples_forget_faults();
DROP FUNCTION gpu_samples_record_faults();
DROP FUNCTION gpu_fault_events_of(gpu_samples);
DO $$
BEGIN
  IF current_setting('timescaledb.license') <> 'apache' THEN
    PERFORM remove_retention_policy('gpu_faults', if_exists => true);
    PERFORM remove_compression_policy('gpu_faults', if_exists => true);
  END IF;
END
$$;
DELETE FROM gpu_retention WHERE hypertable_name = 'gpu_faults';
DROP TABLE gpu_faults;
-- 0013's cost views, over the raw rows.
CREATE OR REPLACE VIEW gpu_team_cost_daily AS
SELECT time_bucket(INTERVAL '1 day', time) AS bucket, team, currency,
       count(DISTINCT workload_id) AS workloads, count(DISTINCT gpu_uuid) AS gpus,
       sum(share * interval_s) / 3600 AS gpu_hours, sum(energy_kwh) AS energy_kwh,
       sum(allocated_cost_micros)::bigint AS allocated_cost_micros, sum(used_cost_micros)::bigint AS used_cost_micros,
       sum(idle_cost_micros)::bigint AS idle_cost_micros,
       sum(used_cost_micros)::double precision / nullif(sum(allocated_cost_micros), 0) AS efficiency,
       sum(idle_cost_micros)::double precision / nullif(sum(allocated_cost_micros), 0) AS idle_share
  FROM gpu_workload_costs
 GROUP BY time_bucket(INTERVAL '1 day', time), team, currency;
CREATE OR REPLACE VIEW gpu_workload_cost_daily AS
SELECT c.bucket, c.workload_id, w.kind, w.cluster, w.namespace, w.pod, w.container, w.job_id, w.job_user, w.account,
       w.partition, c.team, c.currency, c.gpus, c.gpu_hours, c.energy_kwh, c.allocated_cost_micros, c.used_cost_micros,
       c.idle_cost_micros, c.used_cost_micros::double precision / nullif(c.allocated_cost_micros, 0) AS efficiency
  FROM (
    SELECT time_bucket(INTERVAL '1 day', time) AS bucket, workload_id, team, currency,
           count(DISTINCT gpu_uuid) AS gpus, sum(share * interval_s) / 3600 AS gpu_hours, sum(energy_kwh) AS energy_kwh,
           sum(allocated_cost_micros)::bigint AS allocated_cost_micros, sum(used_cost_micros)::bigint AS used_cost_micros,
           sum(idle_cost_micros)::bigint AS idle_cost_micros
      FROM gpu_workload_costs
     GROUP BY time_bucket(INTERVAL '1 day', time), workload_id, team, currency
  ) AS c
  LEFT JOIN gpu_workloads w ON w.workload_id = c.workload_id;
DO $$
BEGIN
  IF current_setting('timescaledb.license') = 'apache' THEN
    DROP VIEW gpu_workload_costs_1h;
  ELSE
    DROP MATERIALIZED VIEW gpu_workload_costs_1h;
  END IF;
END
$$;

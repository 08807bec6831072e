-- Up Migration
-- Attribution (issue 8): which pod or Slurm job is on each GPU, what it costs, which faults hit it.
-- gpu.samples.v1 gained processes, workloads and attribution_problems; gpu.economics.v1 gained
-- workloads (BACKWARD compatible). Processes and problems are facts of the sample: jsonb columns,
-- appended in schema order. The two workloads arrays are not columns: a pod or job is a row of the
-- gpu_workloads dimension, and each sighting or cost part a row of a child hypertable that
-- references it by workload_id (logically: no foreign key, so the sink's COPY stays one statement
-- per table and retention drops chunks freely). migrate.test.ts lists these two fields.
ALTER TABLE gpu_samples
  ADD COLUMN processes jsonb,
  ADD COLUMN attribution_problems jsonb NOT NULL DEFAULT '[]';

-- One row per workload ever seen, kept by the sink in the transaction of its samples, like
-- gpu_devices: attributes from the latest sighting, first_seen only moves back, last_seen forward.
-- workload_id: k8s:<namespace>/<pod>/<container>, k8s:pod-<pod uid>/<container id>, slurm:[<cluster>/]<job id>.
-- The Slurm user is job_user: a column named user would be shadowed by SQL's USER (the session's
-- role) in any query that does not qualify it.
CREATE TABLE gpu_workloads (
  workload_id text PRIMARY KEY,
  kind        text NOT NULL,            -- KUBERNETES_POD or SLURM_JOB
  cluster     text,
  namespace   text,
  pod         text,
  pod_uid     text,
  container   text,
  job_id      text,
  job_user    text,
  account     text,
  partition   text,
  source      text NOT NULL,            -- cgroup, pod-resources, slurm-job-map, environ, simulator
  first_seen  timestamptz NOT NULL,
  last_seen   timestamptz NOT NULL
);
CREATE INDEX gpu_workloads_last_seen ON gpu_workloads (last_seen);
CREATE INDEX gpu_workloads_job ON gpu_workloads (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX gpu_workloads_namespace_pod ON gpu_workloads (namespace, pod) WHERE namespace IS NOT NULL;

-- gpu.samples.v1 workloads: one row per sample and workload on the GPU (or on one of its MIG
-- slices). The key is the sink's idempotence key; NULLS NOT DISTINCT so a replayed row without a
-- device or slice still conflicts. A workload on two slices of one GPU is two rows.
CREATE TABLE gpu_workload_samples (
  time            timestamptz NOT NULL,
  gpu_uuid        text NOT NULL,
  workload_id     text NOT NULL,
  device_uuid     text,                 -- GPU or MIG device UUID the workload holds
  gpu_instance_id integer,              -- MIG GPU instance
  pids            jsonb NOT NULL,       -- host PIDs of its processes on the GPU; [] when it holds the GPU idle
  used_memory_mib double precision      -- memory those processes hold (MiB); null when none runs
);
SELECT create_hypertable('gpu_workload_samples', by_range('time', INTERVAL '1 day'));
CREATE UNIQUE INDEX gpu_workload_samples_key
  ON gpu_workload_samples (gpu_uuid, time, workload_id, device_uuid, gpu_instance_id) NULLS NOT DISTINCT;
CREATE INDEX gpu_workload_samples_workload_time ON gpu_workload_samples (workload_id, time DESC);

-- gpu.economics.v1 workloads: the part of a GPU interval charged to one workload, or (workload_id
-- null) to none. currency and interval_s are the economics record's, so a part stands alone:
-- its GPU time is share x interval_s. NULLS NOT DISTINCT: one unattributed part per record.
CREATE TABLE gpu_workload_costs (
  time                  timestamptz NOT NULL,
  gpu_uuid              text NOT NULL,
  workload_id           text,
  team                  text NOT NULL,
  share                 double precision NOT NULL,
  energy_kwh            double precision NOT NULL,
  allocated_cost_micros bigint NOT NULL,
  used_cost_micros      bigint NOT NULL,
  idle_cost_micros      bigint NOT NULL,
  currency              text NOT NULL,
  interval_s            double precision NOT NULL
);
SELECT create_hypertable('gpu_workload_costs', by_range('time', INTERVAL '1 day'));
CREATE UNIQUE INDEX gpu_workload_costs_key ON gpu_workload_costs (gpu_uuid, time, workload_id) NULLS NOT DISTINCT;
CREATE INDEX gpu_workload_costs_team_time ON gpu_workload_costs (team, time DESC);
CREATE INDEX gpu_workload_costs_workload_time ON gpu_workload_costs (workload_id, time DESC);

-- The samples that can raise a fault event (gpu_fault_events): a few in a healthy fleet, so this
-- partial index lets a time-bounded fault query read them alone instead of every sample. The Xid
-- test is a jsonpath (@?): its selectivity is estimated from the column's statistics, where
-- jsonb <> '[]' is guessed at half the rows and the planner then expects thousands of events.
-- gpu_fault_events repeats the predicate word for word, which is how the planner matches it.
-- Built in this migration's transaction: on a large gpu_samples that reads every chunk once.
CREATE INDEX gpu_samples_fault_candidates ON gpu_samples (time DESC, gpu_uuid)
  WHERE xid_events @? '$[*] ? (@.code == 48 || @.code == 63 || @.code == 64 || @.code == 79 || @.code == 119)'
     OR ecc_volatile_dbe > 0 OR remapped_rows_failure OR throttle_hw_thermal_slowdown;

-- A workload's sightings are kept as long as health history (a quarter: which GPUs a job ran on,
-- for reliability reviews; rows are ~150 bytes), its costs as long as the GPU's economics.
INSERT INTO gpu_retention (hypertable_name, drop_after) VALUES
  ('gpu_workload_samples', INTERVAL '90 days'),
  ('gpu_workload_costs', INTERVAL '395 days');

-- Compression and retention policies where the edition has them, as 0007 does for the stream tables.
DO $$
DECLARE
  t record;
BEGIN
  IF current_setting('timescaledb.license') = 'apache' THEN
    RETURN;
  END IF;
  FOR t IN
    SELECT r.hypertable_name, r.drop_after, o.orderby
      FROM gpu_retention r
      JOIN (VALUES ('gpu_workload_samples', 'time DESC, workload_id, device_uuid, gpu_instance_id'),
                   ('gpu_workload_costs', 'time DESC, workload_id')) AS o (hypertable_name, orderby)
        ON o.hypertable_name = r.hypertable_name
     ORDER BY r.hypertable_name
  LOOP
    EXECUTE format(
      'ALTER TABLE %I SET (timescaledb.compress, timescaledb.compress_segmentby = %L, timescaledb.compress_orderby = %L)',
      t.hypertable_name, 'gpu_uuid', t.orderby);
    PERFORM add_compression_policy(t.hypertable_name::regclass, INTERVAL '2 days');
    PERFORM add_retention_policy(t.hypertable_name::regclass, t.drop_after);
  END LOOP;
END
$$;

-- Cost per workload and day, with the workload's names (docs/views.md). GPU-hours are the parts'
-- shares of the GPUs' time; efficiency is used / allocated. The unattributed part is the row whose
-- workload_id is null.
CREATE VIEW gpu_workload_cost_daily AS
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

-- Cost per team and day.
CREATE VIEW gpu_team_cost_daily AS
SELECT time_bucket(INTERVAL '1 day', time) AS bucket, team, currency,
       count(DISTINCT workload_id) AS workloads, count(DISTINCT gpu_uuid) AS gpus,
       sum(share * interval_s) / 3600 AS gpu_hours, sum(energy_kwh) AS energy_kwh,
       sum(allocated_cost_micros)::bigint AS allocated_cost_micros, sum(used_cost_micros)::bigint AS used_cost_micros,
       sum(idle_cost_micros)::bigint AS idle_cost_micros,
       sum(used_cost_micros)::double precision / nullif(sum(allocated_cost_micros), 0) AS efficiency,
       sum(idle_cost_micros)::double precision / nullif(sum(allocated_cost_micros), 0) AS idle_share
  FROM gpu_workload_costs
 GROUP BY time_bucket(INTERVAL '1 day', time), team, currency;

-- Cost per Kubernetes namespace and day (Slurm jobs have none: gpu_workload_cost_daily by account).
CREATE VIEW gpu_namespace_cost_daily AS
SELECT bucket, cluster, namespace, currency, count(DISTINCT workload_id) AS workloads,
       sum(gpu_hours) AS gpu_hours, sum(energy_kwh) AS energy_kwh,
       sum(allocated_cost_micros)::bigint AS allocated_cost_micros, sum(used_cost_micros)::bigint AS used_cost_micros,
       sum(idle_cost_micros)::bigint AS idle_cost_micros,
       sum(used_cost_micros)::double precision / nullif(sum(allocated_cost_micros), 0) AS efficiency
  FROM gpu_workload_cost_daily
 WHERE namespace IS NOT NULL
 GROUP BY bucket, cluster, namespace, currency;

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

GRANT INSERT, SELECT ON gpu_workload_samples, gpu_workload_costs TO gpu_writer;
GRANT INSERT, SELECT, UPDATE ON gpu_workloads TO gpu_writer;
GRANT SELECT ON gpu_workloads, gpu_workload_samples, gpu_workload_costs, gpu_workload_cost_daily, gpu_team_cost_daily,
  gpu_namespace_cost_daily, gpu_fault_events, gpu_fault_workloads, gpu_at_risk_workloads TO gpu_analyst;

-- Down Migration
DROP VIEW gpu_at_risk_workloads;
DROP VIEW gpu_fault_workloads;
DROP VIEW gpu_fault_events;
DROP VIEW gpu_namespace_cost_daily;
DROP VIEW gpu_team_cost_daily;
DROP VIEW gpu_workload_cost_daily;
DO $$
BEGIN
  IF current_setting('timescaledb.license') = 'apache' THEN
    RETURN;
  END IF;
  PERFORM remove_retention_policy('gpu_workload_costs', if_exists => true);
  PERFORM remove_compression_policy('gpu_workload_costs', if_exists => true);
  PERFORM remove_retention_policy('gpu_workload_samples', if_exists => true);
  PERFORM remove_compression_policy('gpu_workload_samples', if_exists => true);
END
$$;
DELETE FROM gpu_retention WHERE hypertable_name IN ('gpu_workload_samples', 'gpu_workload_costs');
DROP INDEX gpu_samples_fault_candidates;
DROP TABLE gpu_workload_costs;
DROP TABLE gpu_workload_samples;
DROP TABLE gpu_workloads;
ALTER TABLE gpu_samples DROP COLUMN attribution_problems, DROP COLUMN processes;

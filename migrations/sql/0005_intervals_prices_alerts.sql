-- Up Migration
-- gpu.samples.v1 gained interval_s and gpu.economics.v1 the cost per used GPU-hour (both
-- BACKWARD compatible); gpu.alerts.v1 took Alertmanager's shape (starts_at, ends_at, runbook)
-- before anything wrote it, so its table is made anew.
ALTER TABLE gpu_samples ADD COLUMN interval_s double precision;
ALTER TABLE gpu_economics ADD COLUMN cost_per_used_gpu_hour_micros bigint;

DROP TABLE gpu_alerts;
CREATE TABLE gpu_alerts (
  time       timestamptz NOT NULL,
  gpu_uuid   text NOT NULL,
  hostname   text NOT NULL,
  alert_key  text NOT NULL,
  rule       text NOT NULL,
  source     text NOT NULL,
  severity   text NOT NULL,
  summary    text NOT NULL,
  runbook    text NOT NULL,
  starts_at  timestamptz NOT NULL,
  ends_at    timestamptz NOT NULL,
  labels     jsonb NOT NULL
);
SELECT create_hypertable('gpu_alerts', by_range('time', INTERVAL '1 day'));
CREATE UNIQUE INDEX gpu_alerts_key ON gpu_alerts (gpu_uuid, time, alert_key);
CREATE INDEX gpu_alerts_host_time ON gpu_alerts (hostname, time DESC);
CREATE INDEX gpu_alerts_alert_key_time ON gpu_alerts (alert_key, time DESC);

-- Down Migration
-- The earlier alerts table held nothing; going down leaves the new shape in place.
ALTER TABLE gpu_economics DROP COLUMN cost_per_used_gpu_hour_micros;
ALTER TABLE gpu_samples DROP COLUMN interval_s;

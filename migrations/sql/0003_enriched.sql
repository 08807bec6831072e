-- Up Migration
-- Column names and types follow the topic's Avro schema field by field (a test checks it):
-- string/enum -> text, double -> double precision, long -> bigint, int -> integer,
-- timestamp-millis -> timestamptz, arrays/records/maps -> jsonb; nullable unions -> NULL allowed.
-- Each table's unique index is the sink's idempotence key: a replayed record conflicts with it and is
-- skipped. TimescaleDB requires the time column in every unique index of a hypertable.

-- gpu.health.v1: one verdict per GPU reading.
CREATE TABLE gpu_health (
  time          timestamptz NOT NULL,
  gpu_uuid      text NOT NULL,
  hostname      text NOT NULL,
  score         integer NOT NULL,
  verdict       text NOT NULL,
  thermal_power text NOT NULL,
  memory        text NOT NULL,
  pcie          text NOT NULL,
  nvlink        text NOT NULL,
  driver        text NOT NULL,
  reasons       jsonb NOT NULL
);
SELECT create_hypertable('gpu_health', by_range('time', INTERVAL '1 day'));
CREATE UNIQUE INDEX gpu_health_key ON gpu_health (gpu_uuid, time);
CREATE INDEX gpu_health_host_time ON gpu_health (hostname, time DESC);
CREATE INDEX gpu_health_verdict_time ON gpu_health (verdict, time DESC);

-- gpu.anomalies.v1: one row per anomaly found in a reading.
CREATE TABLE gpu_anomalies (
  time      timestamptz NOT NULL,
  gpu_uuid  text NOT NULL,
  hostname  text NOT NULL,
  kind      text NOT NULL,
  severity  text NOT NULL,
  metric    text NOT NULL,
  value     double precision,
  baseline  double precision,
  score     double precision,
  dedup_key text NOT NULL,
  message   text NOT NULL
);
SELECT create_hypertable('gpu_anomalies', by_range('time', INTERVAL '1 day'));
CREATE UNIQUE INDEX gpu_anomalies_key ON gpu_anomalies (gpu_uuid, time, kind, metric);
CREATE INDEX gpu_anomalies_host_time ON gpu_anomalies (hostname, time DESC);
CREATE INDEX gpu_anomalies_kind_time ON gpu_anomalies (kind, time DESC);

-- gpu.predictions.v1: one failure prediction per GPU reading and model version.
CREATE TABLE gpu_predictions (
  time          timestamptz NOT NULL,
  gpu_uuid      text NOT NULL,
  hostname      text NOT NULL,
  model_name    text NOT NULL,
  model_version text NOT NULL,
  horizon_hours integer NOT NULL,
  probability   double precision NOT NULL,
  threshold     double precision NOT NULL,
  at_risk       boolean NOT NULL
);
SELECT create_hypertable('gpu_predictions', by_range('time', INTERVAL '1 day'));
CREATE UNIQUE INDEX gpu_predictions_key ON gpu_predictions (gpu_uuid, time, model_name, model_version);
CREATE INDEX gpu_predictions_host_time ON gpu_predictions (hostname, time DESC);

-- gpu.economics.v1: cost, energy and carbon per GPU reading interval.
CREATE TABLE gpu_economics (
  time                  timestamptz NOT NULL,
  gpu_uuid              text NOT NULL,
  hostname              text NOT NULL,
  product_name          text,
  currency              text NOT NULL,
  interval_s            double precision NOT NULL,
  energy_kwh            double precision NOT NULL,
  energy_cost_micros    bigint NOT NULL,
  allocated_cost_micros bigint NOT NULL,
  used_cost_micros      bigint NOT NULL,
  idle_cost_micros      bigint NOT NULL,
  efficiency            double precision NOT NULL,
  co2e_kg               double precision NOT NULL
);
SELECT create_hypertable('gpu_economics', by_range('time', INTERVAL '1 day'));
CREATE UNIQUE INDEX gpu_economics_key ON gpu_economics (gpu_uuid, time);
CREATE INDEX gpu_economics_host_time ON gpu_economics (hostname, time DESC);

-- gpu.alerts.v1: alert transitions.
CREATE TABLE gpu_alerts (
  time      timestamptz NOT NULL,
  gpu_uuid  text NOT NULL,
  hostname  text NOT NULL,
  alert_key text NOT NULL,
  rule      text NOT NULL,
  severity  text NOT NULL,
  status    text NOT NULL,
  summary   text NOT NULL,
  labels    jsonb NOT NULL
);
SELECT create_hypertable('gpu_alerts', by_range('time', INTERVAL '1 day'));
CREATE UNIQUE INDEX gpu_alerts_key ON gpu_alerts (gpu_uuid, time, alert_key);
CREATE INDEX gpu_alerts_host_time ON gpu_alerts (hostname, time DESC);
CREATE INDEX gpu_alerts_alert_key_time ON gpu_alerts (alert_key, time DESC);

-- Down Migration
DROP TABLE gpu_alerts;
DROP TABLE gpu_economics;
DROP TABLE gpu_predictions;
DROP TABLE gpu_anomalies;
DROP TABLE gpu_health;

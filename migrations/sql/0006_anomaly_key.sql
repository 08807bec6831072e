-- Up Migration
-- One sample can raise several anomalies of one kind on one metric (Xid 48 and Xid 64 together):
-- the idempotence key is the anomaly's dedup_key, which tells them apart, not the metric.
DROP INDEX gpu_anomalies_key;
CREATE UNIQUE INDEX gpu_anomalies_key ON gpu_anomalies (gpu_uuid, time, dedup_key);

-- Down Migration
DROP INDEX gpu_anomalies_key;
CREATE UNIQUE INDEX gpu_anomalies_key ON gpu_anomalies (gpu_uuid, time, kind, metric);

-- Up Migration
-- Inventory: one row per GPU ever seen, kept up to date by the sink from gpu_samples (an upsert
-- that keeps first_seen and moves last_seen and the descriptive columns forward).
CREATE TABLE gpu_devices (
  gpu_uuid       text PRIMARY KEY,
  serial         text,
  product_name   text,
  hostname       text NOT NULL,
  driver_version text,
  first_seen     timestamptz NOT NULL,
  last_seen      timestamptz NOT NULL
);
CREATE INDEX gpu_devices_host ON gpu_devices (hostname);
CREATE INDEX gpu_devices_last_seen ON gpu_devices (last_seen);

-- Down Migration
DROP TABLE gpu_devices;

-- Up Migration
-- Chunk intervals for the default fleet (64 GPUs, one reading every 10 s: 553,000 rows a day per
-- stream). A gpu_samples row is about 1.2 kB, so a day of samples is about 750 MB with its indexes;
-- six-hour chunks (about 190 MB) keep the chunk being written, and the one before, in memory on a
-- small server. Health and economics rows are 120-180 bytes: a day is 70-100 MB, so they keep one
-- day. Anomalies and alerts are sparse: a week per chunk. New intervals apply to new chunks only.
SELECT set_chunk_time_interval('gpu_samples', INTERVAL '6 hours');
SELECT set_chunk_time_interval('gpu_anomalies', INTERVAL '7 days');
SELECT set_chunk_time_interval('gpu_alerts', INTERVAL '7 days');

-- How long each hypertable keeps its rows: read by the retention policies (editions that have them)
-- and by gpu_drop_old_chunks() (the Apache edition's manual job). docs/retention.md explains the values.
CREATE TABLE gpu_retention (
  hypertable_name text PRIMARY KEY,
  drop_after      interval NOT NULL
);
INSERT INTO gpu_retention (hypertable_name, drop_after) VALUES
  ('gpu_samples', INTERVAL '30 days'),
  ('gpu_health', INTERVAL '90 days'),
  ('gpu_anomalies', INTERVAL '90 days'),
  ('gpu_predictions', INTERVAL '90 days'),
  ('gpu_alerts', INTERVAL '90 days'),
  ('gpu_economics', INTERVAL '395 days');

-- Compression (by GPU, newest first, after two days) and retention policies exist only outside the
-- Apache edition: there they raise "not supported under the current apache license". The order
-- includes the rest of each unique key, so the sink's ON CONFLICT check stays cheap on compressed chunks.
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
      JOIN (VALUES ('gpu_samples', 'time DESC'), ('gpu_health', 'time DESC'), ('gpu_economics', 'time DESC'),
                   ('gpu_anomalies', 'time DESC, dedup_key'), ('gpu_alerts', 'time DESC, alert_key'),
                   ('gpu_predictions', 'time DESC, model_name, model_version')) AS o (hypertable_name, orderby)
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

-- The Apache edition's retention job: drops each hypertable's chunks that hold only rows older than
-- its gpu_retention.drop_after, and lists them. Run daily by the database owner (drop_chunks needs
-- ownership): psql "$DATABASE_URL" -c 'SELECT * FROM gpu_drop_old_chunks()'.
CREATE FUNCTION gpu_drop_old_chunks() RETURNS TABLE (hypertable_name text, chunk text)
LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT r.hypertable_name, r.drop_after FROM gpu_retention r ORDER BY r.hypertable_name LOOP
    hypertable_name := t.hypertable_name;
    FOR chunk IN SELECT drop_chunks(t.hypertable_name::regclass, older_than => now() - t.drop_after) LOOP
      RETURN NEXT;
    END LOOP;
  END LOOP;
END
$$;
REVOKE EXECUTE ON FUNCTION gpu_drop_old_chunks() FROM PUBLIC;

-- Down Migration
DROP FUNCTION gpu_drop_old_chunks();
DO $$
DECLARE
  t record;
BEGIN
  IF current_setting('timescaledb.license') = 'apache' THEN
    RETURN;
  END IF;
  FOR t IN SELECT hypertable_name FROM gpu_retention LOOP
    PERFORM remove_retention_policy(t.hypertable_name::regclass, if_exists => true);
    PERFORM remove_compression_policy(t.hypertable_name::regclass, if_exists => true);
  END LOOP;
END
$$;
DROP TABLE gpu_retention;
SELECT set_chunk_time_interval('gpu_alerts', INTERVAL '1 day');
SELECT set_chunk_time_interval('gpu_anomalies', INTERVAL '1 day');
SELECT set_chunk_time_interval('gpu_samples', INTERVAL '1 day');

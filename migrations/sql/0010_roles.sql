-- Up Migration
-- Two group roles (NOLOGIN; login users are made members of them, see docs/roles.md):
--   gpu_writer:  what the sink needs: INSERT and SELECT on the stream tables (SELECT because its
--                staging table is CREATE TEMP TABLE … (LIKE the table)), UPDATE on gpu_devices for
--                its upsert, TEMPORARY on the database for that staging table, SELECT on
--                gpu_retention (it skips records older than a table keeps).
--   gpu_analyst: SELECT on every gpu_ table and view but the migrations' bookkeeping; nothing else.
-- Roles are cluster-wide and may exist already (another database, or the stack made them).
-- Creating them needs CREATEROLE; granting on objects needs only ownership of them.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gpu_writer') THEN
    CREATE ROLE gpu_writer NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gpu_analyst') THEN
    CREATE ROLE gpu_analyst NOLOGIN;
  END IF;
  -- Connecting and temporary tables are given by name, not to everyone.
  EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO gpu_writer', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO gpu_analyst', current_database());
END
$$;

-- PostgreSQL 15 no longer lets PUBLIC create in schema public; a database upgraded from 14 still does.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO gpu_writer, gpu_analyst;

GRANT INSERT, SELECT ON gpu_samples, gpu_health, gpu_anomalies, gpu_predictions, gpu_economics, gpu_alerts TO gpu_writer;
GRANT INSERT, SELECT, UPDATE ON gpu_devices TO gpu_writer;
GRANT SELECT ON gpu_retention TO gpu_writer;

DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.relname FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
       AND c.relname LIKE 'gpu\_%' AND c.relname <> 'gpu_migrations'
  LOOP
    EXECUTE format('GRANT SELECT ON %I TO gpu_analyst', r.relname);
  END LOOP;
END
$$;
-- No ALTER DEFAULT PRIVILEGES: they cannot be limited to gpu_ names, so they would hand analysts
-- any table the owner ever creates in public. A later migration grants by name what it creates
-- (SELECT to gpu_analyst; INSERT, SELECT to gpu_writer for a stream table); roles.test.ts fails
-- on a gpu_ relation the analyst cannot read.

-- Down Migration
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.relname FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm') AND c.relname LIKE 'gpu\_%'
  LOOP
    EXECUTE format('REVOKE ALL ON %I FROM gpu_writer, gpu_analyst', r.relname);
  END LOOP;
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM gpu_writer, gpu_analyst', current_database());
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
END
$$;
REVOKE USAGE ON SCHEMA public FROM gpu_writer, gpu_analyst;
-- The roles stay: they are cluster-wide and other databases may use them.

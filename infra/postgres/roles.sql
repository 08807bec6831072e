-- The local stacks' database roles, one file for both: infra/stack/services/postgres.sh runs it on
-- every start of the native stack, and infra/compose.yaml mounts it into the timescaledb image's
-- /docker-entrypoint-initdb.d (run once, on a new data volume). Plain SQL, no psql meta-commands,
-- so tests/e2e/src/database-init.test.ts runs it as it is. Idempotent: safe to run again.
--
-- gpu_writer and gpu_analyst are the group roles migration 0010 grants to (docs/roles.md); made here
-- too, as the migration would make them, so the logins can join them before the first migrate.
-- gpu_sink (the sink, predict-failure) and gpu_reader (analysts) are the logins, with the local
-- stack's well-known passwords: a real deployment makes its own (docs/deploy.md).
-- No NOSUPERUSER: only a superuser may say it, and CREATE ROLE makes none; the test checks.
DO $$
DECLARE
  name text;
BEGIN
  FOREACH name IN ARRAY ARRAY['gpu_writer', 'gpu_analyst', 'gpu_sink', 'gpu_reader'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', name);
    END IF;
  END LOOP;
END
$$;

ALTER ROLE gpu_sink WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD 'gpu_sink';
GRANT gpu_writer TO gpu_sink;
ALTER ROLE gpu_reader WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD 'gpu_reader';
GRANT gpu_analyst TO gpu_reader;

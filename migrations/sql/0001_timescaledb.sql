-- Up Migration
-- The local stack and the timescaledb image create the extension as a superuser; this only checks it is there.
CREATE EXTENSION IF NOT EXISTS timescaledb;

-- Down Migration
-- Other databases objects may depend on the extension: leave it.

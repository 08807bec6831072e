-- Up Migration
-- Issue 16: every index entry is work on every row the sink writes. WAL of the e2e pipeline at
-- 3,000 samples/s: 21 B-tree entries per sample, 70 % of its WAL with their page splits; each
-- extra index on a gpu_health-shaped hypertable cost about 2.2 µs of PostgreSQL CPU per row
-- (400,000 rows: key only 4.2-5.2 µs a row, key + 3 indexes 8.8-10.7). Four indexes that no
-- view reads go, and one becomes partial: 5 of the 21 entries. docs/views.md says how to ask per
-- host without them.

-- Per host: the enriched rows of a host are those of its GPUs, whose keys (gpu_uuid, time) are
-- indexed; gpu_devices names a host's GPUs. No view or dashboard reads these.
DROP INDEX gpu_health_host_time;
DROP INDEX gpu_predictions_host_time;
DROP INDEX gpu_economics_host_time;

-- Per team: the cost views read the hourly rollup gpu_workload_costs_1h (0016), which has the team.
DROP INDEX gpu_workload_costs_team_time;

-- What is failing: nearly every health row is PASS, and nobody asks for those by verdict. The
-- planner uses a partial index for verdict = 'FAIL', verdict IN ('WARN', 'FAIL') and verdict <> 'PASS'.
DROP INDEX gpu_health_verdict_time;
CREATE INDEX gpu_health_failing_time ON gpu_health (verdict, time DESC) WHERE verdict <> 'PASS';

-- Down Migration
DROP INDEX gpu_health_failing_time;
CREATE INDEX gpu_workload_costs_team_time ON gpu_workload_costs (team, time DESC);
CREATE INDEX gpu_health_verdict_time ON gpu_health (verdict, time DESC);
CREATE INDEX gpu_economics_host_time ON gpu_economics (hostname, time DESC);
CREATE INDEX gpu_predictions_host_time ON gpu_predictions (hostname, time DESC);
CREATE INDEX gpu_health_host_time ON gpu_health (hostname, time DESC);

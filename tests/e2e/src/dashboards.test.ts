import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDatabase } from '@gpumon/migrations/scratch-database';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import { eventually, startCli, type CliProcess } from './cli-process.js';
import { interpolateGrafanaSql, type GrafanaContext } from './grafana-sql.js';
import { expectedRecords, startWholePipeline, type PipelineRun } from './whole-pipeline.js';

/**
 * Every SQL panel and variable of the Grafana dashboards (dashboards/grafana), with the macros
 * expanded as Grafana's PostgreSQL data source expands them, runs as the analyst login of the
 * provisioned data source on a scratch database that the real pipeline (simulate → processors →
 * sink) wrote, and returns rows. The simulated clock ends now, like a live fleet's.
 */
const DASHBOARDS = fileURLToPath(new URL('../../../dashboards/', import.meta.url));
const scratch = scratchDatabase();
const seed = 11;
const intervalMs = 10 * 60_000;
const ticks = 30;
const start = Math.floor(Date.now() / 1000) * 1000 - (ticks - 1) * intervalMs;

/**
 * A host prefix of this run (it seeds each host's scheduler) whose simulated hosts run both
 * Kubernetes pods and Slurm jobs, so the namespace and job panels have rows too.
 */
function hostPrefixWithPodsAndJobs(): string {
  for (;;) {
    const hostPrefix = `dash-${randomBytes(3).toString('hex')}`;
    const fleet = new SimulatedFleet({ hosts: 2, gpusPerHost: 8, seed, hostPrefix });
    const samples = Array.from({ length: ticks }, (_, k) => fleet.sample(start + k * intervalMs)).flat();
    if (new Set(samples.flatMap((s) => (s.workloads ?? []).map((w) => w.kind))).size === 2) return hostPrefix;
  }
}

const hostPrefix = hostPrefixWithPodsAndJobs();
const pipelineRun: PipelineRun = {
  env: { GPUMON_TOPIC_PREFIX: `${hostPrefix}.`, DATABASE_URL: scratch.settings.databaseUrl }, hostPrefix, seed, intervalMs, ticks, start,
};
const kafka = createKafka(loadConfig(kafkaOptions, { topicPrefix: pipelineRun.env.GPUMON_TOPIC_PREFIX }), 'e2e');
const registry = createRegistryClient(loadConfig(registryOptions));
const running: CliProcess[] = [];

interface Target { rawSql?: string; expr?: string; format?: string }
interface Panel { title: string; type: string; datasource: { uid: string }; targets: Target[] }
interface Variable { name: string; query: string; multi: boolean; datasource: { uid: string } }
interface Dashboard { uid: string; title: string; panels: Panel[]; templating: { list: Variable[] } }

const dashboards: Array<[string, Dashboard]> = readdirSync(`${DASHBOARDS}grafana`).filter((f) => f.endsWith('.json')).sort()
  .map((file) => [file, JSON.parse(readFileSync(`${DASHBOARDS}grafana/${file}`, 'utf8')) as Dashboard]);
const provisioned = parseYaml(readFileSync(`${DASHBOARDS}provisioning/datasources/gpumon.yaml`, 'utf8')) as {
  datasources: Array<{ uid: string; type: string; user?: string; jsonData?: { database?: string; timescaledb?: boolean }; secureJsonData?: { password?: string } }>;
};
const timescale = provisioned.datasources.find((d) => d.type === 'grafana-postgresql-datasource')!;

/** The relations a panel reads: FROM and JOIN targets, CTE names and set-returning functions aside. */
function relationsOf(sql: string): string[] {
  return [...sql.matchAll(/(?<!DISTINCT\s)\b(?:FROM|JOIN)\s+(?:LATERAL\s+)?(?!LATERAL\b)([a-z_][a-z0-9_.]*)(?![a-z0-9_.]|\s*\()/gi)].map((m) => m[1]!.toLowerCase());
}

/**
 * What a panel may read: the views and aggregates of docs/views.md, and, for one GPU's own history
 * (readings, throttle reasons, health scores, predictions with their features, workloads), the
 * tables the sink writes and docs/views.md documents. Never gpu_migrations, gpu_retention,
 * gpu_models or anything outside gpu_.
 */
const TABLES_FOR_ONE_GPU = new Set(['gpu_devices', 'gpu_samples', 'gpu_health', 'gpu_predictions', 'gpu_workloads', 'gpu_workload_samples']);

describe('the Grafana dashboards', () => {
  it('each has a unique uid, and every panel uses a provisioned data source with a query', () => {
    const uids = new Set(provisioned.datasources.map((d) => d.uid));
    expect(new Set(dashboards.map(([, d]) => d.uid)).size).toBe(dashboards.length);
    expect(dashboards.map(([file]) => file)).toEqual(['cost.json', 'faults.json', 'fleet-overview.json', 'gpu.json', 'pipeline.json']);
    for (const [file, dashboard] of dashboards) {
      for (const panel of dashboard.panels) {
        expect(uids, `${file}: ${panel.title}`).toContain(panel.datasource.uid);
        expect(panel.targets.length, `${file}: ${panel.title}`).toBeGreaterThan(0);
        for (const target of panel.targets) expect(target.rawSql ?? target.expr, `${file}: ${panel.title}`).toBeTruthy();
      }
    }
    expect(timescale.jsonData?.timescaledb).toBe(true);
  });

  it('expand Grafana macros as its PostgreSQL data source does', () => {
    const context: GrafanaContext = { from: new Date('2026-01-02T03:00:00Z'), to: new Date('2026-01-02T09:00:00Z'), interval: '5m', variables: { host: ['a', "b'c"], gpu: 'GPU-1' } };
    expect(interpolateGrafanaSql(
      "SELECT $__timeGroupAlias(time, $__interval), v FROM t WHERE $__timeFilter(time) AND hostname IN ($host) AND gpu_uuid = '$gpu' AND time < $__timeTo()",
      context,
    )).toBe(
      "SELECT time_bucket('300.000s',time) AS \"time\", v FROM t WHERE time BETWEEN '2026-01-02T03:00:00Z' AND '2026-01-02T09:00:00Z' AND hostname IN ('a','b''c') AND gpu_uuid = 'GPU-1' AND time < '2026-01-02T09:00:00Z'",
    );
    expect(() => interpolateGrafanaSql('SELECT $__unknownMacro(x)', context)).toThrow(/no macro/);
    expect(() => interpolateGrafanaSql('SELECT $team', context)).toThrow(/does not define/);
  });
});

describe('every SQL panel on what the pipeline wrote, as the provisioned analyst', () => {
  let analyst: pg.Client;
  let context: GrafanaContext;

  beforeAll(async () => {
    await scratch.create();
    const migrate = startCli(['migrate'], pipelineRun.env);
    expect(await migrate.exited, migrate.output()).toBe(0);
    const topics = startCli(['topics'], pipelineRun.env);
    expect(await topics.exited, topics.output()).toBe(0);
    running.push(...(await startWholePipeline(pipelineRun)));
    const expected = await expectedRecords(pipelineRun);
    const owner = new pg.Client({ connectionString: scratch.settings.databaseUrl });
    await owner.connect();
    try {
      for (const [stream, table] of [['samples', 'gpu_samples'], ['health', 'gpu_health'], ['economics', 'gpu_economics'], ['predictions', 'gpu_predictions']] as const) {
        await eventually(`${expected.get(stream)!.length} rows in ${table}`, async () => {
          const { rows } = await owner.query(`SELECT count(*)::int AS n FROM ${table}`);
          return rows[0].n >= expected.get(stream)!.length ? true : undefined;
        }, 120_000);
      }
    } finally {
      await owner.end();
    }
    await Promise.all(running.splice(0).map((p) => p.stop()));
    analyst = new pg.Client({ connectionString: scratch.as(timescale.user!, timescale.secureJsonData!.password!).databaseUrl });
    await analyst.connect();
    const now = Math.ceil(Date.now() / 1000) * 1000;
    context = { from: new Date(pipelineRun.start - 3_600_000), to: new Date(now + 60_000), interval: '5m', variables: {} };
  }, 300_000);

  afterAll(async () => {
    await analyst?.end();
    await Promise.all(running.map((p) => p.stop()));
    await scratch.drop();
    await removeTopics(kafka, registry, pipelineRun.env.GPUMON_TOPIC_PREFIX);
  });

  const query = async (sql: string, variables: GrafanaContext['variables']): Promise<Array<Record<string, unknown>>> =>
    (await analyst.query(interpolateGrafanaSql(sql, { ...context, variables }))).rows;

  /** The dashboard's variables, each set as a user would pick it from its own query's answers. */
  async function pickVariables(dashboard: Dashboard): Promise<GrafanaContext['variables']> {
    const variables: GrafanaContext['variables'] = {};
    for (const variable of dashboard.templating.list) {
      const rows = await query(variable.query, variables);
      const options = rows.map((r) => String(r.__value ?? Object.values(r)[0]));
      expect(options.length, `${dashboard.title}: variable ${variable.name}`).toBeGreaterThan(0);
      if (variable.multi) {
        variables[variable.name] = options;
      } else {
        // One GPU: the one with the most critical events that had a workload on it, so every panel has something to show.
        const { rows: [busiest] } = await analyst.query(`
          SELECT f.gpu_uuid FROM gpu_fault_events f
           WHERE EXISTS (SELECT 1 FROM gpu_workload_samples ws WHERE ws.gpu_uuid = f.gpu_uuid)
           GROUP BY f.gpu_uuid ORDER BY count(*) DESC, f.gpu_uuid LIMIT 1`);
        expect(options).toContain(busiest.gpu_uuid);
        variables[variable.name] = String(busiest.gpu_uuid);
      }
    }
    return variables;
  }

  it.each(dashboards.filter(([, d]) => d.panels.some((p) => p.targets.some((t) => t.rawSql !== undefined))))('%s', async (_, dashboard) => {
    const views = new Set((await analyst.query(`
      SELECT viewname AS name FROM pg_views WHERE schemaname = 'public' AND viewname LIKE 'gpu\\_%'
       UNION SELECT view_name FROM timescaledb_information.continuous_aggregates`)).rows.map((r) => String(r.name)));
    const variables = await pickVariables(dashboard);
    for (const panel of dashboard.panels) {
      for (const target of panel.targets.filter((t) => t.rawSql !== undefined)) {
        expect(relationsOf(target.rawSql!).length, `${dashboard.title} / ${panel.title} reads a relation`).toBeGreaterThan(0);
        for (const relation of relationsOf(target.rawSql!)) {
          expect(views.has(relation) || TABLES_FOR_ONE_GPU.has(relation), `${dashboard.title} / ${panel.title} reads ${relation}`).toBe(true);
        }
        const rows = await query(target.rawSql!, variables);
        expect(rows.length, `${dashboard.title} / ${panel.title}: no rows`).toBeGreaterThan(0);
        if (target.format === 'time_series') expect(rows[0]!.time, `${dashboard.title} / ${panel.title}: a "time" column`).toBeInstanceOf(Date);
      }
    }
  });
});

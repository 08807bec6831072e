import { readFileSync } from 'node:fs';

/** The views whose example queries (docs/views.md) the demo shows when it ends: health, risk, idle cost. */
export const NEXT_STEP_VIEWS = ['gpu_fleet_health_now', 'gpu_at_risk', 'gpu_idle_cost_by_host'] as const;

/** The ```sql block under each `## gpu_…` or `### gpu_…` heading of docs/views.md, by view. */
export function exampleQueries(viewsDoc: string): Map<string, string> {
  const queries = new Map<string, string>();
  for (const [, view, sql] of viewsDoc.matchAll(/^#{2,3} (gpu_\w+)\n[^#]*?```sql\n([\s\S]*?)```/gm)) queries.set(view!, sql!.trimEnd());
  return queries;
}

/**
 * What a user who just watched the demo does next: connect as the analyst (the native stack's
 * gpu_reader, same host and database as `databaseUrl`), run three documented queries, load the
 * dashboards. Reads the queries from docs/views.md, whose examples the e2e tests run.
 */
export function nextSteps(databaseUrl: string, repoRoot: string): string {
  const analyst = new URL(databaseUrl);
  analyst.username = 'gpu_reader';
  analyst.password = 'gpu_reader';
  analyst.search = '';
  const queries = exampleQueries(readFileSync(`${repoRoot}docs/views.md`, 'utf8'));
  const examples = NEXT_STEP_VIEWS.map((view) => {
    const sql = queries.get(view);
    if (sql === undefined) throw new Error(`docs/views.md has no example query for ${view}`);
    return `-- ${view}\n${sql}`;
  });
  return [
    '',
    'Next steps',
    `  The data stays in TimescaleDB. Connect as the analyst (member of gpu_analyst, read-only):`,
    `    psql ${analyst.toString()}`,
    '  Three queries to start with (every view, with its columns: docs/views.md):',
    '',
    ...examples.flatMap((sql) => [...sql.split('\n').map((line) => `    ${line}`), '']),
    `  Grafana dashboards and Prometheus alert rules: ${repoRoot}dashboards (how to load them: dashboards/README.md).`,
    '  Topics and their schemas for your own consumers: docs/topics.md.',
    '',
  ].join('\n');
}

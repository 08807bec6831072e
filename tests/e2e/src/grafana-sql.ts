/**
 * What Grafana's PostgreSQL data source sends to the database for a panel's SQL: first the
 * frontend's template variables ($__interval, the dashboard's own variables), then the backend's
 * macros (pkg/tsdb/grafana-postgresql-datasource/macros.go, with the TimescaleDB option on, as
 * dashboards/provisioning sets it). Only what the gpumon dashboards may use; anything else throws,
 * so a panel written with an unsupported macro fails its test instead of being skipped.
 */
export interface GrafanaContext {
  from: Date;
  to: Date;
  /** $__interval as Grafana writes it: 30s, 5m, 1h. */
  interval: string;
  /** Each dashboard variable's selected value(s); an array for a multi-value variable. */
  variables: Record<string, string | string[]>;
}

const MACRO = /\$([_a-zA-Z0-9]+)\(([^)]*)\)/g;

/** A Go duration as Grafana's gtime.ParseInterval reads it (s, m, h, d), in seconds. */
function intervalSeconds(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.replace(/^'|'$/g, ''));
  if (match === null) throw new Error(`Grafana cannot parse the interval ${text}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** The SQL data sources' variable interpolation: a multi-value variable is quoted and joined, a single value only escaped. */
function variableValue(value: string | string[]): string {
  const quote = (v: string): string => `'${v.replaceAll("'", "''")}'`;
  return Array.isArray(value) ? value.map(quote).join(',') : value.replaceAll("'", "''");
}

export function interpolateGrafanaSql(sql: string, context: GrafanaContext): string {
  const rfc3339 = (time: Date): string => time.toISOString().replace('.000Z', 'Z');
  let text = sql.replaceAll('$__interval_ms', String(intervalSeconds(context.interval) * 1000)).replaceAll('$__interval', context.interval);
  text = text.replace(/\$(\w+)/g, (whole, name: string) => {
    if (name.startsWith('__')) return whole;
    const value = context.variables[name];
    if (value === undefined) throw new Error(`the query uses $${name}, which the dashboard does not define`);
    return variableValue(value);
  });
  return text.replace(MACRO, (_, name: string, argList: string) => {
    const args = argList.split(',').map((a) => a.trim());
    const timeGroup = (): string => `time_bucket('${intervalSeconds(args[1] ?? '').toFixed(3)}s',${args[0]})`;
    switch (name) {
      case '__time': return `${args[0]} AS "time"`;
      case '__timeFilter': return `${args[0]} BETWEEN '${rfc3339(context.from)}' AND '${rfc3339(context.to)}'`;
      case '__timeFrom': return `'${rfc3339(context.from)}'`;
      case '__timeTo': return `'${rfc3339(context.to)}'`;
      case '__timeGroup': return timeGroup();
      case '__timeGroupAlias': return `${timeGroup()} AS "time"`;
      default: throw new Error(`Grafana's PostgreSQL data source has no macro $${name} the dashboards may use`);
    }
  });
}

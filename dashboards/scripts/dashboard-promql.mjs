// Prints every PromQL expression of the Grafana dashboards given as arguments as a Prometheus
// rule file (JSON, which YAML reads), each a recording rule, so `promtool check rules` parses
// them all. Grafana's own variables are set as Grafana would set them before sending the query.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const GRAFANA_VARIABLES = { __rate_interval: '1m', __interval: '1m', __range: '1h' };

const rules = [];
for (const file of process.argv.slice(2)) {
  const dashboard = JSON.parse(readFileSync(file, 'utf8'));
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) {
      if (target.expr === undefined) continue;
      const expr = target.expr.replace(/\$(\w+)/g, (whole, name) => {
        if (!(name in GRAFANA_VARIABLES)) throw new Error(`${basename(file)}: "${panel.title}" uses $${name}, which this check does not know`);
        return GRAFANA_VARIABLES[name];
      });
      rules.push({ record: `dashboard:${basename(file, '.json').replace(/\W/g, '_')}:${rules.length}`, expr, labels: { panel: panel.title } });
    }
  }
}
if (rules.length === 0) throw new Error('no PromQL found in the dashboards given');
process.stdout.write(`${JSON.stringify({ groups: [{ name: 'dashboards', rules }] }, null, 2)}\n`);

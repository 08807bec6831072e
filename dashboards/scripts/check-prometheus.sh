#!/usr/bin/env bash
# Checks what Prometheus reads from this folder with promtool (built once into a cache by
# promtool.sh): the scrape configuration and its rules, the rules' unit tests, and every PromQL
# expression of the Grafana dashboards. .ci/run calls it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
promtool=$(bash scripts/promtool.sh)
"$promtool" check config prometheus/prometheus.yml
"$promtool" test rules prometheus/tests/*.yml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node scripts/dashboard-promql.mjs grafana/*.json > "$work/dashboards.rules.json"
"$promtool" check rules "$work/dashboards.rules.json"

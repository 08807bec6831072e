#!/usr/bin/env bash
# npm test: install and build what is missing, bring the local stack up if it is not, migrate, run every package's tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh

bash scripts/ensure-built.sh
bash infra/stack/stack.sh up
node cli/bin/gpumon.js migrate
rm -f ./*/.vitest/report.json ./*/*/.vitest/report.json
status=0
npx turbo run test --concurrency=2 "$@" || status=$?
node scripts/test-summary.mjs
exit "$status"

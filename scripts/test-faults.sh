#!/usr/bin/env bash
# npm run test:faults: install and build what is missing, bring the local stack up if it is not, migrate, then run
# the fault tests of tests/e2e/src/faults/ (slow: they kill, stop and poison real processes and services).
# Arguments go to vitest: `npm run test:faults -- kill-9` runs only the files whose path has "kill-9".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh

bash scripts/ensure-built.sh
bash infra/stack/stack.sh up
node cli/bin/gpumon.js migrate
cd tests/e2e
exec npx vitest run --config vitest.faults.config.ts "$@"

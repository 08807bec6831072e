#!/usr/bin/env bash
# npm run demo: install and build what is missing, bring the local stack up, then run the whole pipeline with a live status line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh

bash scripts/ensure-built.sh
bash infra/stack/stack.sh up
exec node cli/bin/gpumon.js demo "$@"

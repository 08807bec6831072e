#!/usr/bin/env bash
# npm run lint: eslint and tsc --noEmit over every workspace, the cross-package tests and the scripts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh
npx turbo run lint typecheck
npx tsc -p tsconfig.tests.json
npx eslint scripts cli/bin dashboards/scripts examples eslint.config.js vitest.shared.ts

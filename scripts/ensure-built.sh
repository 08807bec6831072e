#!/usr/bin/env bash
# Makes a fresh clone runnable: npm packages installed (when missing or older than the lock file) and the workspaces built.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[gpumon] installing npm packages (npm ci)" >&2
  # onnxruntime-node's install script (run by npm before 11) downloads CUDA files, which fails offline; its CPU build is in the package.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
fi
echo "[gpumon] building" >&2
npx turbo run build --output-logs=errors-only >&2

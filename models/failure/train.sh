#!/usr/bin/env bash
# Trains the failure model (or checks it reproduces, with --check): see README.md.
set -euo pipefail
cd "$(dirname "$0")"
bash setup.sh
exec .venv/bin/python train.py "$@"

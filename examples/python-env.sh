#!/usr/bin/env bash
# Prints the python of a virtual environment with requirements.txt installed, made once in a cache
# outside the repository (the topic-contract test runs consumer.py with it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${GPUMON_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpumon-tools}/python-consumer-$(sha256sum "$here/requirements.txt" | cut -c1-12)"
if [ ! -e "$venv/.installed" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt" >&2
  touch "$venv/.installed"
fi
echo "$venv/bin/python"

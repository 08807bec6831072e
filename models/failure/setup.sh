#!/usr/bin/env bash
# Creates models/failure/.venv with the pinned training requirements. Idempotent: does nothing when
# the venv was built from the same requirements.txt (a stamp holds the file's sha256).
set -euo pipefail
cd "$(dirname "$0")"

python="${PYTHON:-python3}"
version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$version" != "3.11" ]; then
  echo "setup.sh: needs Python 3.11 (the pinned wheels are for it), $python is $version; set PYTHON=python3.11" >&2
  exit 2
fi

want="$(sha256sum requirements.txt | cut -d' ' -f1)"
stamp=.venv/requirements.sha256
if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

"$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
echo "$want" > "$stamp"

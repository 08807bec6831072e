#!/usr/bin/env bash
# with-node.sh CMD [ARGS]: runs CMD with a supported Node first on PATH (see node.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node.sh"
exec "$@"

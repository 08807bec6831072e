#!/usr/bin/env bash
# Prints the path of promtool, building it once into a cache outside the repository when missing
# (a `go install` takes minutes; every later call is instant). Needs Go; the module comes from the Go proxy.
set -euo pipefail
version=v0.316.0
tools="${GPUMON_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpumon-tools}"
bin="$tools/promtool-$version"
if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "promtool.sh: Go is needed to build promtool $version" >&2; exit 1; }
  mkdir -p "$tools"
  GOBIN="$tools/build-$$" go install "github.com/prometheus/prometheus/cmd/promtool@$version" >&2
  mv "$tools/build-$$/promtool" "$bin"
  rmdir "$tools/build-$$"
fi
echo "$bin"

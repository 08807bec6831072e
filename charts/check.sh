#!/usr/bin/env bash
# Lints the chart and validates what it renders, offline: helm lint --strict and helm template with the
# default values and each charts/gpumon/ci/*-values.yaml, every object decoded strictly into the
# Kubernetes API's Go types (charts/validate). Builds helm and the validator into a cache outside the
# repository when missing (about 2 min the first time; seconds after).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
HELM_VERSION=v3.22.0
# The Kubernetes release of the API types validate/ decodes into (k8s.io/api v0.37).
KUBE_VERSION=1.37.0
tools="${XDG_CACHE_HOME:-$HOME/.cache}/gpumon-tools"
mkdir -p "$tools"
helm="$tools/helm-$HELM_VERSION"
validate="$tools/validate-$(sha256sum validate/go.sum validate/main.go | sha256sum | cut -c1-12)"
if [[ ! -x $helm ]]; then
  started=$(date +%s)
  GOBIN="$tools/build" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  mv "$tools/build/helm" "$helm"
  echo "charts: built helm $HELM_VERSION in $(( $(date +%s) - started )) s"
fi
if [[ ! -x $validate ]]; then
  started=$(date +%s)
  (cd validate && go build -o "$validate" .)
  echo "charts: built the validator in $(( $(date +%s) - started )) s"
fi

"$helm" lint --strict gpumon --kube-version "$KUBE_VERSION"
for values in default gpumon/ci/*-values.yaml; do
  args=()
  [[ $values == default ]] || args=(--values "$values")
  echo "charts: $values"
  "$helm" lint --strict gpumon --kube-version "$KUBE_VERSION" "${args[@]}" >/dev/null
  "$helm" template gpumon-check gpumon --namespace gpumon --kube-version "$KUBE_VERSION" "${args[@]}" | "$validate" | tail -1
done
# The check must be able to fail: a misspelt field has to be refused.
if "$helm" template gpumon-check gpumon --kube-version "$KUBE_VERSION" --set-json 'agent.affinity={"nodeAffinty":{}}' | "$validate" >/dev/null 2>&1; then
  echo "charts: the validator accepted a misspelt field (spec.template.spec.affinity.nodeAffinty)" >&2
  exit 1
fi
echo "charts: lint and validation passed"

#!/usr/bin/env bash
# gpumon local stack: Kafka (KRaft), a Confluent-compatible schema registry, PostgreSQL + TimescaleDB.
# Usage: stack.sh up|down|status|logs [service]|reset|kafka-tool CLASS [ARGS]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Start order matters: the registry keeps its schemas in Kafka. GPUMON_STACK_SERVICES picks a
# subset, e.g. "postgres" when Kafka runs elsewhere, or "kafka" for a second, private broker.
read -r -a SERVICES <<<"${GPUMON_STACK_SERVICES:-postgres kafka registry}"
for svc in "${SERVICES[@]}"; do
  case "$svc" in postgres | kafka | registry) ;; *) die "GPUMON_STACK_SERVICES: unknown service '$svc' (postgres, kafka, registry)" ;; esac
done
for svc in "${SERVICES[@]}"; do source "$STACK_DIR/services/$svc.sh"; done

up() {
  local svc port wanted=()
  for svc in "${SERVICES[@]}"; do
    "${svc}_running" && continue
    for port in $("${svc}_ports"); do wanted+=("$svc:$port"); done
  done
  refuse_taken_ports "${wanted[@]}"
  for svc in "${SERVICES[@]}"; do "${svc}_install"; done
  for svc in "${SERVICES[@]}"; do
    if "${svc}_running"; then
      say "$svc already running at $("${svc}_address")"
    else
      say "starting $svc at $("${svc}_address")"
      "${svc}_start"
    fi
  done
  status
}

down() {
  local i
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    if "${SERVICES[i]}_running"; then
      say "stopping ${SERVICES[i]}"
      "${SERVICES[i]}_stop"
    fi
  done
}

status() {
  local svc state rc=0
  for svc in "${SERVICES[@]}"; do
    if "${svc}_check"; then state=up
    elif "${svc}_running"; then state="started, not answering"; rc=1
    else state=down; rc=1
    fi
    [ "$state" = up ] && state="up    $("${svc}_version")"
    printf '%-10s %-40s %s\n' "$svc" "$("${svc}_address")" "$state"
  done
  return $rc
}

logs() {
  local svc
  for svc in "${@:-${SERVICES[@]}}"; do
    declare -F "${svc}_logs" >/dev/null || die "unknown service '$svc' (one of: ${SERVICES[*]})"
    printf '==> %s: %s <==\n' "$svc" "$("${svc}_logs")"
    tail -n 50 "$("${svc}_logs")" 2>/dev/null || true
  done
}

reset() {
  down
  local svc
  for svc in "${SERVICES[@]}"; do "${svc}_reset"; done
  say "data removed; downloads and builds kept in $CACHE_DIR"
}

cmd=${1:-}
shift || true
case "$cmd" in
  up) up ;;
  down) down ;;
  status) status ;;
  logs) logs "$@" ;;
  reset) reset ;;
  kafka-tool) kafka_tool "$@" ;;
  *) echo "usage: stack.sh up|down|status|logs [service]|reset|kafka-tool CLASS [ARGS]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# A Kafka cluster for fault tests, from the stack's Kafka jars: KAFKA_NODES (default 3) KRaft nodes,
# each broker + controller and a voter, replication factor 3 and min.insync.replicas=2 (every
# write is on two nodes before it is acknowledged, so losing one node loses nothing).
# Node i (1..N) is "kafka-i": client port KAFKA_PORT+2(i-1), controller port KAFKA_CONTROLLER_PORT+2(i-1).
# Usage: kafka-cluster.sh up|down|status|brokers|controller|kill NODE|start NODE|reset
set -euo pipefail
# Several JVMs beside PostgreSQL, the registry and Node on a small box: each gets a smaller heap.
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms128m -Xmx384m}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$STACK_DIR/services/kafka.sh"

KAFKA_NODES=${KAFKA_NODES:-3}
if ! [[ $KAFKA_NODES =~ ^[0-9]+$ ]] || [ "$KAFKA_NODES" -lt 3 ]; then
  die "KAFKA_NODES must be 3 or more (replication factor 3)"
fi
mapfile -t NODES < <(seq 1 "$KAFKA_NODES")
KAFKA_REPLICATION_FACTOR=3
KAFKA_MIN_INSYNC_REPLICAS=2
KAFKA_VOTERS=$(for i in "${NODES[@]}"; do printf '%s@localhost:%s,' "$i" $((KAFKA_CONTROLLER_PORT + 2 * (i - 1))); done)
KAFKA_VOTERS=${KAFKA_VOTERS%,}

select_node() {
  if ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ] || [ "$1" -gt "$KAFKA_NODES" ]; then
    die "no node '$1' (nodes are 1..$KAFKA_NODES)"
  fi
  kafka_node "kafka-$1" "$1" $((KAFKA_PORT + 2 * ($1 - 1))) $((KAFKA_CONTROLLER_PORT + 2 * ($1 - 1)))
}

# The bootstrap list of every node, for KAFKA_BROKERS.
brokers() {
  local i list=()
  for i in "${NODES[@]}"; do
    select_node "$i"
    list+=("$(kafka_address)")
  done
  (IFS=,; echo "${list[*]}")
}

# A node formatted after the others, or whose data was lost, must join the cluster they formed.
formed_cluster_id() {
  local i
  for i in "${NODES[@]}"; do
    select_node "$i"
    [ -f "$KAFKA_DATA/log/meta.properties" ] && sed -n 's/^cluster\.id=//p' "$KAFKA_DATA/log/meta.properties" && return 0
  done
  return 0
}

# start_nodes NODE...: starts those not running, then waits for each to answer. All are started
# before any is waited for: a node answers clients only once a majority of the voters is up.
start_nodes() {
  local i port wanted=()
  for i in "$@"; do
    select_node "$i"
    kafka_running && continue
    for port in $(kafka_ports); do wanted+=("$KAFKA_NAME:$port"); done
  done
  refuse_taken_ports "${wanted[@]}"
  kafka_install
  KAFKA_CLUSTER_ID=$(formed_cluster_id)
  for i in "$@"; do
    select_node "$i"
    kafka_running && continue
    say "starting $KAFKA_NAME at $(kafka_address)"
    kafka_spawn
  done
  for i in "$@"; do
    select_node "$i"
    kafka_wait
  done
}

# A crash: SIGKILL, no controlled shutdown, so its partitions move only once the quorum notices.
kill_node() {
  local pid i
  select_node "$1"
  pid=$(pid_of "$KAFKA_NAME") || die "$KAFKA_NAME is not running"
  kill -KILL "$pid"
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  say "killed $KAFKA_NAME (pid $pid)"
}

# All at once: a node stopped after the quorum lost its majority would wait out its controlled shutdown.
down() {
  local i
  for i in "${NODES[@]}"; do
    select_node "$i"
    kafka_running && say "stopping $KAFKA_NAME" && kafka_stop &
  done
  wait
}

status() {
  local i state rc=0
  for i in "${NODES[@]}"; do
    select_node "$i"
    if kafka_check; then state=up
    elif kafka_running; then state="started, not answering"; rc=1
    else state=down; rc=1
    fi
    printf '%-10s %-40s %s\n' "$KAFKA_NAME" "$(kafka_address)" "$state"
  done
  return $rc
}

# The node id of the active controller (the quorum's leader), as the quorum itself reports it.
controller() {
  kafka_tool org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server "$(brokers)" describe --status |
    sed -n 's/^LeaderId:[[:space:]]*//p'
}

reset() {
  local i
  down
  for i in "${NODES[@]}"; do
    select_node "$i"
    kafka_reset
  done
}

cmd=${1:-}
case "$cmd" in
  up)
    start_nodes "${NODES[@]}"
    status
    ;;
  down) down ;;
  status) status ;;
  brokers) brokers ;;
  controller) controller ;;
  kill) kill_node "${2:-}" ;;
  start) start_nodes "${2:-}" ;;
  reset) reset ;;
  *) echo "usage: kafka-cluster.sh up|down|status|brokers|controller|kill NODE|start NODE|reset" >&2; exit 2 ;;
esac

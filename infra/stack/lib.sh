# Shared helpers for the native local stack. Sourced by stack.sh and every services/*.sh.
# Everything the stack downloads, builds or writes lives under GPUMON_HOME (git-ignored).

STACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$STACK_DIR/../.." && pwd)
GPUMON_HOME=${GPUMON_HOME:-$REPO_ROOT/.gpumon}
CACHE_DIR=${GPUMON_CACHE_DIR:-$GPUMON_HOME/cache}
DATA_DIR=${GPUMON_DATA_DIR:-$GPUMON_HOME/data}
RUN_DIR=$GPUMON_HOME/run
LOG_DIR=$GPUMON_HOME/logs

KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
SCHEMA_REGISTRY_PORT=${SCHEMA_REGISTRY_PORT:-8081}
PGPORT=${PGPORT:-5432}

mkdir -p "$CACHE_DIR" "$DATA_DIR" "$RUN_DIR" "$LOG_DIR"

say() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

# 0 when something accepts TCP connections on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# refuse_taken_ports WHO:PORT...: exits naming every PORT another process already listens on. Called
# before anything is started, so a taken port never leaves half a stack running.
refuse_taken_ports() {
  local wanted busy=()
  for wanted in "$@"; do
    port_busy "${wanted#*:}" && busy+=("port ${wanted#*:} (wanted by ${wanted%%:*}) is already in use by another process")
  done
  [ ${#busy[@]} -eq 0 ] && return 0
  printf '[stack] error: %s\n' "${busy[@]}" >&2
  exit 1
}

# Prints the pid recorded for NAME when that process is still alive; fails otherwise.
pid_of() {
  local file="$RUN_DIR/$1.pid" pid
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# spawn NAME LOGFILE CMD... : starts CMD detached in its own session and records its pid.
spawn() {
  local name=$1 log=$2; shift 2
  setsid nohup "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$name.pid"
}

# stop_pid NAME [SECONDS]: SIGTERM the recorded process group, SIGKILL after SECONDS.
# Only ever signals the pid this stack recorded, never a process found by name.
stop_pid() {
  local name=$1 timeout=${2:-30} pid i
  pid=$(pid_of "$name") || { rm -f "$RUN_DIR/$name.pid"; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < timeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name (pid $pid) did not stop in ${timeout}s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$RUN_DIR/$name.pid"
}

# wait_until NAME SECONDS LOGFILE CMD... : polls CMD until it succeeds; on timeout prints the log tail and fails.
wait_until() {
  local name=$1 timeout=$2 log=$3 i; shift 3
  for ((i = 0; i < timeout * 2; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    if ! pid_of "$name" >/dev/null; then
      # The cause is logged before the shutdown that fills the tail.
      grep -m 10 -E '(ERROR|FATAL)' "$log" >&2 2>/dev/null || tail -n 30 "$log" >&2 2>/dev/null
      die "$name exited during start; log: $log"
    fi
    sleep 0.5
  done
  tail -n 30 "$log" >&2 2>/dev/null
  die "$name did not answer within ${timeout}s; log: $log"
}

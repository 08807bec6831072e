# PostgreSQL 15 + TimescaleDB for the native local stack.
# Sourced by stack.sh after lib.sh; defines postgres_{ports,install,running,start,stop,check,address,logs,reset}.
#
# Debian 12 ships PostgreSQL 15 but no TimescaleDB. Which TimescaleDB, in this order:
#  1. GPUMON_TIMESCALEDB_SOURCE names a source archive (e.g. the complete 2.28.3 source, tsl/ included):
#     exactly that build is what PostgreSQL loads; whatever an earlier run installed is replaced.
#  2. A TimescaleDB already installed on the machine (Timescale's own packages, say) is used as it is.
#  3. Otherwise the Apache-only edition is built once from Debian 13's source package (fetched through
#     the system's own apt mirror, via a private source list that leaves the system's apt configuration
#     untouched). Compression, continuous aggregates and policies then stay off (the migrations say so).
# Either build goes into PostgreSQL 15's own extension and library directories.
# The cluster is the stack's own (data in $DATA_DIR/postgres, socket in $RUN_DIR/postgres), never
# Debian's /etc/postgresql clusters, and it runs as a non-root user because postgres refuses root.

PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_DATA=$DATA_DIR/postgres
PG_SOCKET_DIR=$RUN_DIR/postgres
PG_LOG=$LOG_DIR/postgres.log
PG_BUILD_LOG=$LOG_DIR/postgres-install.log
PG_SUPERUSER=postgres
PG_APP_USER=gpumon
PG_APP_PASSWORD=gpumon
PG_APP_DB=gpumon
TSDB_CACHE=$CACHE_DIR/timescaledb
# Debian release whose timescaledb source package builds against Debian 12's PostgreSQL 15.
TSDB_SOURCE_SUITE=${TSDB_SOURCE_SUITE:-trixie}

postgres_ports() { echo "$PGPORT"; }
postgres_address() { echo "localhost:$PGPORT"; }
postgres_logs() { echo "$PG_LOG"; }
# What the server runs, asked of it: "PostgreSQL 15.x, TimescaleDB 2.y.z (apache|community edition),
# shared memory in huge pages|4 KB pages (…)".
postgres_version() {
  local line
  line=$(PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -X -q -At -w \
    "postgresql://$PG_APP_USER:$PG_APP_PASSWORD@localhost:$PGPORT/$PG_APP_DB?connect_timeout=3" -c "
    SELECT 'PostgreSQL ' || current_setting('server_version') || ', TimescaleDB ' || extversion || ' ('
      || CASE current_setting('timescaledb.license') WHEN 'timescale' THEN 'community' ELSE current_setting('timescaledb.license') END
      || ' edition)|' || current_setting('shared_memory_size_in_huge_pages')
    FROM pg_extension WHERE extname = 'timescaledb'" 2>/dev/null) || return 0
  [ -n "$line" ] || return 0
  local pages
  pages=$(_pg_memory_pages "${line##*|}")
  echo "${line%|*}${pages:+, $pages}"
}

# Whether the server's shared memory is in huge pages. In 4 KB pages, 2GB of shared_buffers cost
# the backends 7-18 µs of CPU a sample more at 6,000-16,000 samples/s (docs/benchmarks.md,
# 2026-12-06): page-table walks and buffer lookups. huge_pages = try (PostgreSQL's default) takes
# them only where root has reserved enough (vm.nr_hugepages), so the stack says what it got.
# Says nothing where it cannot read the server's memory map (another user's server, hidepid).
_pg_memory_pages() {
  local needed=$1 pid maps
  pid=$(_pg_postmaster_pid) || return 0
  maps=$(cat "/proc/$pid/maps" 2>/dev/null) || return 0
  if grep -q '/anon_hugepage' <<<"$maps"; then
    echo "shared memory in huge pages"
  else
    echo "shared memory in 4 KB pages (huge pages: vm.nr_hugepages >= $needed, infra/README.md)"
  fi
}

_pg_is_root() { [ "$(id -u)" -eq 0 ]; }

# postgres will not run as root, so root runs it as a dedicated system user.
_pg_os_user() { if _pg_is_root; then echo gpumon; else id -un; fi; }

# Runs a command as the server's OS user, from / so tools don't warn about an unreadable cwd.
_pg_as() {
  if _pg_is_root; then
    (cd / && runuser -u "$(_pg_os_user)" -- "$@")
  else
    "$@"
  fi
}

# psql as the cluster superuser over the private unix socket (peer auth mapped in pg_ident.conf).
_pg_admin_psql() {
  _pg_as "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PGPORT" -U "$PG_SUPERUSER" "$@"
}

_pg_fail_with_log() {
  tail -n 30 "$2" >&2 2>/dev/null || true
  die "postgres ($(postgres_address)): $1; log: $2"
}

# ---------------------------------------------------------------------------------------------
# packages

_pg_missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' || echo "$p"
  done
}

_pg_apt_updated=
_pg_apt_update() {
  [ -z "$_pg_apt_updated" ] || return 0
  say "postgres: apt-get update"
  apt-get update >>"$PG_BUILD_LOG" 2>&1 || _pg_fail_with_log "apt-get update failed" "$PG_BUILD_LOG"
  _pg_apt_updated=1
}

# Installs packages, refreshing apt's lists only when the first try shows they are stale or absent.
_pg_apt_install() {
  _pg_is_root || die "postgres: missing packages ($*) and not root to install them; run: sudo apt-get install -y $*"
  say "postgres: installing $* (apt)"
  local cmd=(apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "$@")
  # UCF_FORCE_CONFFOLD keeps a createcluster.conf we may have written (see _pg_no_system_cluster).
  if DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 "${cmd[@]}" >>"$PG_BUILD_LOG" 2>&1; then return 0; fi
  [ -z "$_pg_apt_updated" ] || _pg_fail_with_log "apt-get install $* failed" "$PG_BUILD_LOG"
  _pg_apt_update
  DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 "${cmd[@]}" >>"$PG_BUILD_LOG" 2>&1 ||
    _pg_fail_with_log "apt-get install $* failed" "$PG_BUILD_LOG"
}

# Debian's package would otherwise create and start its own "main" cluster on 5432, taking our port.
# createcluster.conf(5) is the documented switch; only written when postgresql-common is not installed
# yet, so an existing system setup is never changed.
_pg_no_system_cluster() {
  local conf=/etc/postgresql-common/createcluster.conf
  [ -e "$conf" ] && return 0
  mkdir -p "${conf%/*}"
  printf '# written by gpumon infra/stack: the stack runs its own cluster\ncreate_main_cluster = false\n' >"$conf"
}

_pg_ensure_server() {
  [ -x "$PG_BIN/postgres" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] && [ -x "$PG_BIN/psql" ] && return 0
  _pg_is_root && _pg_no_system_cluster
  _pg_apt_install "postgresql-$PG_MAJOR"
  [ -x "$PG_BIN/postgres" ] || die "postgres: $PG_BIN/postgres still missing after installing postgresql-$PG_MAJOR"
}

# ---------------------------------------------------------------------------------------------
# TimescaleDB

_pg_ext_dir() { echo "$("$PG_BIN/pg_config" --sharedir)/extension"; }

# The Debian mirror this system already uses, read from apt's own view of its sources.
_pg_mirror_uri() {
  local codename uri
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || die "postgres: cannot tell the Debian release from /etc/os-release"
  uri=$(apt-get -o Dir::State::Lists="$TSDB_CACHE/apt/lists" -o Dir::Cache="$TSDB_CACHE/apt/cache" \
    --print-uris update 2>/dev/null |
    sed -n "s|^'\(.*\)/dists/$codename/InRelease'.*|\1/|p" | head -n 1)
  [ -n "$uri" ] || die "postgres: no Debian mirror for '$codename' found in the apt sources"
  echo "$uri"
}

# Downloads the timescaledb source package into $TSDB_CACHE/src (apt checks it against the signed index).
_pg_fetch_timescaledb_source() {
  local apt_dir=$TSDB_CACHE/apt uri keyring=/usr/share/keyrings/debian-archive-keyring.gpg opts=""
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache" "$apt_dir/sources.list.d"
  uri=$(_pg_mirror_uri)
  [ -r "$keyring" ] && opts="[signed-by=$keyring] "
  echo "deb-src $opts$uri $TSDB_SOURCE_SUITE main" >"$apt_dir/sources.list"
  # Private lists and cache: the system's own apt state never sees the foreign suite.
  local apt=(apt-get -q -o Dir::Etc::SourceList="$apt_dir/sources.list"
    -o Dir::Etc::SourceParts="$apt_dir/sources.list.d" -o Dir::State::Lists="$apt_dir/lists"
    -o Dir::Cache="$apt_dir/cache" -o APT::Sandbox::User=root)
  say "postgres: fetching timescaledb source ($TSDB_SOURCE_SUITE) from $uri"
  "${apt[@]}" update >>"$PG_BUILD_LOG" 2>&1 ||
    _pg_fail_with_log "apt-get update of the $TSDB_SOURCE_SUITE source index failed" "$PG_BUILD_LOG"
  rm -rf "$TSDB_CACHE/src" && mkdir -p "$TSDB_CACHE/src"
  (cd "$TSDB_CACHE/src" && "${apt[@]}" source --download-only timescaledb) >>"$PG_BUILD_LOG" 2>&1 ||
    _pg_fail_with_log "downloading the timescaledb source package failed" "$PG_BUILD_LOG"
}

# Prints the unpacked source tree. Only the upstream tarball is needed: Debian's patches touch tests.
_pg_unpack_timescaledb_source() {
  local tarball
  tarball=$(ls -1 "$TSDB_CACHE"/src/timescaledb_*.orig.tar.* 2>/dev/null | sort -V | tail -n 1)
  [ -n "$tarball" ] || die "postgres: no timescaledb source tarball in $TSDB_CACHE/src"
  tar -xf "$tarball" -C "$TSDB_CACHE/src"
  ls -1d "$TSDB_CACHE"/src/timescaledb-*/ | sort -V | tail -n 1
}

# Marks which archive the installed build came from (its sha256), so a different one is rebuilt.
_pg_tsdb_marker() { echo "$(_pg_ext_dir)/timescaledb.gpumon-source"; }

# _pg_build_timescaledb SOURCE_DIR CMAKE_FLAGS...: builds and installs into PostgreSQL's directories.
_pg_build_timescaledb() {
  _pg_is_root || die "postgres: building the TimescaleDB extension needs root; run the stack once as root"
  local src=$1 deps build=$TSDB_CACHE/build started=$SECONDS
  shift
  # server-dev must match the server's major version: it provides the headers and PGXS the build uses.
  deps=$(_pg_missing_packages cmake gcc make libssl-dev "postgresql-server-dev-$PG_MAJOR")
  [ -z "$deps" ] || _pg_apt_install $deps
  say "postgres: building TimescaleDB from ${src%/} (log: $PG_BUILD_LOG)"
  rm -rf "$build"
  # Tests are not built; telemetry is off by default.
  {
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPG_CONFIG="$PG_BIN/pg_config" \
      -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF -DSEND_TELEMETRY_DEFAULT=OFF "$@" &&
      make -C "$build" -j"$(nproc)" &&
      make -C "$build" install
  } >>"$PG_BUILD_LOG" 2>&1 || _pg_fail_with_log "building TimescaleDB failed" "$PG_BUILD_LOG"
  say "postgres: TimescaleDB built and installed in $((SECONDS - started))s"
}

# The archive GPUMON_TIMESCALEDB_SOURCE names, built unless the installed build already came from it.
_pg_ensure_timescaledb_from_archive() {
  local archive=$1 sum src
  [ -r "$archive" ] || die "postgres: GPUMON_TIMESCALEDB_SOURCE=$archive is not a readable file"
  sum=$(sha256sum "$archive" | cut -d' ' -f1)
  [ -f "$(_pg_ext_dir)/timescaledb.control" ] && [ "$(cat "$(_pg_tsdb_marker)" 2>/dev/null)" = "$sum" ] && return 0
  rm -rf "$TSDB_CACHE/archive" && mkdir -p "$TSDB_CACHE/archive"
  tar -xf "$archive" -C "$TSDB_CACHE/archive" || die "postgres: could not unpack $archive"
  src=$(ls -1d "$TSDB_CACHE"/archive/*/ | head -n 1)
  [ -f "$src/CMakeLists.txt" ] || die "postgres: $archive holds no TimescaleDB source tree (no CMakeLists.txt at its top)"
  # Built whole: with tsl/ in the tree, this is the community edition (compression, aggregates, policies).
  _pg_build_timescaledb "$src"
  echo "$sum" >"$(_pg_tsdb_marker)"
  TSDB_INSTALLED_NOW=1
}

_pg_ensure_timescaledb() {
  if [ -n "${GPUMON_TIMESCALEDB_SOURCE:-}" ]; then
    _pg_ensure_timescaledb_from_archive "$GPUMON_TIMESCALEDB_SOURCE"
  elif [ ! -f "$(_pg_ext_dir)/timescaledb.control" ]; then
    _pg_fetch_timescaledb_source
    # APACHE_ONLY: Debian's source omits the TSL-licensed half.
    _pg_build_timescaledb "$(_pg_unpack_timescaledb_source)" -DAPACHE_ONLY=1
    TSDB_INSTALLED_NOW=1
  fi
}

# ---------------------------------------------------------------------------------------------
# cluster

_pg_ensure_os_user() {
  _pg_is_root || return 0
  id -u gpumon >/dev/null 2>&1 && return 0
  say "postgres: creating system user gpumon to run the server"
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin gpumon ||
    die "postgres: could not create system user gpumon"
}

# Writes stdin to FILE, owned by the server user (the server must be able to read it).
_pg_write_owned() {
  cat >"$1"
  _pg_is_root && chown "$(_pg_os_user):" "$1"
  chmod 600 "$1"
}

_pg_ensure_cluster() {
  local user
  user=$(_pg_os_user)
  if [ -s "$PG_DATA/PG_VERSION" ]; then
    [ "$(cat "$PG_DATA/PG_VERSION")" = "$PG_MAJOR" ] ||
      die "postgres: $PG_DATA holds a PostgreSQL $(cat "$PG_DATA/PG_VERSION") cluster, not $PG_MAJOR; run 'stack.sh reset'"
    [ "$(stat -c %U "$PG_DATA")" = "$user" ] ||
      die "postgres: $PG_DATA is owned by $(stat -c %U "$PG_DATA"), not $user; run 'stack.sh reset' or fix its owner"
    return 0
  fi
  mkdir -p "$PG_DATA"
  _pg_is_root && chown "$user:" "$PG_DATA"
  chmod 700 "$PG_DATA"
  _pg_as test -w "$PG_DATA" ||
    die "postgres: user $user cannot write $PG_DATA (is a parent directory closed to others?); set GPUMON_DATA_DIR elsewhere"
  say "postgres: initdb $PG_DATA (server user $user)"
  # The superuser is 'postgres' so the application role can be the unprivileged 'gpumon'.
  _pg_as "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=reject --no-instructions >>"$PG_BUILD_LOG" 2>&1 ||
    _pg_fail_with_log "initdb failed" "$PG_BUILD_LOG"
}

# An eighth of the machine's memory, from 256MB up to 2GB. A sample's rows go to its GPU's newest
# leaf in each (gpu_uuid, time) key and to its workloads' in each (workload_id, time) index: about
# 70 KB of pages a GPU, touched every second. At 10,000 GPUs 256MB could not hold them: the
# backends read 3.3 pages a sample back from the OS and wrote 3.6 out; 2GB took that to 0.4 and
# 0.2, and 5 µs of PostgreSQL CPU off each sample (docs/benchmarks.md).
_pg_shared_buffers_mb() {
  local kb
  kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null)
  local mb=$(( ${kb:-0} / 1024 / 8 ))
  (( mb < 256 )) && mb=256
  (( mb > 2048 )) && mb=2048
  echo "$mb"
}

# Rewritten on every install so a changed PGPORT or stack location takes effect at the next start.
_pg_write_config() {
  grep -q "^include_if_exists = 'gpumon.conf'" "$PG_DATA/postgresql.conf" ||
    echo "include_if_exists = 'gpumon.conf'" >>"$PG_DATA/postgresql.conf"
  _pg_write_owned "$PG_DATA/gpumon.conf" <<EOF
# Managed by gpumon infra/stack/services/postgres.sh; rewritten by 'stack.sh up'.
listen_addresses = 'localhost'
port = $PGPORT
unix_socket_directories = '$PG_SOCKET_DIR'
cluster_name = 'gpumon'
max_connections = 100
shared_buffers = $(_pg_shared_buffers_mb)MB
work_mem = 16MB
maintenance_work_mem = 128MB
effective_cache_size = 1GB
# Fewer checkpoints under a steady ingest: after each one, the first change to a page writes the
# whole page to the WAL, and the (gpu_uuid, time) keys touch a page per GPU. At 1GB one came every
# 15 s of the e2e benchmark's load and full pages were 37 % of its WAL; lz4 compresses those pages.
max_wal_size = 8GB
checkpoint_timeout = 15min
wal_compression = lz4
# PostgreSQL's default, said here because it matters: huge pages where root reserved them
# (vm.nr_hugepages), 4 KB pages where not; 'stack.sh status' says which it got.
huge_pages = try
timezone = 'UTC'
log_timezone = 'UTC'
# pg_ctl sends stderr to the stack's log file.
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%m [%p] %q%u@%d '
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
timescaledb.max_background_workers = 8
max_worker_processes = 16
EOF
  # TCP always needs a password; the socket is only for the server's OS user acting as superuser.
  _pg_write_owned "$PG_DATA/pg_hba.conf" <<EOF
# Managed by gpumon infra/stack/services/postgres.sh.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 peer map=stack
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
EOF
  _pg_write_owned "$PG_DATA/pg_ident.conf" <<EOF
# Managed by gpumon infra/stack/services/postgres.sh.
# MAP   SYSTEM-USER  PG-USER
stack   $(_pg_os_user)  $PG_SUPERUSER
stack   $(_pg_os_user)  $PG_APP_USER
EOF
}

postgres_install() {
  # Unix socket paths are limited to 107 bytes, and postgres appends /.s.PGSQL.<port>.
  [ ${#PG_SOCKET_DIR} -le 90 ] || die "postgres: socket dir path too long ($PG_SOCKET_DIR); set GPUMON_HOME to a shorter path"
  _pg_ensure_server
  _pg_ensure_timescaledb
  _pg_ensure_os_user
  _pg_ensure_cluster
  _pg_write_config
  # A running server keeps the build it loaded at start; the databases move to the new one at the next.
  if [ -n "${TSDB_INSTALLED_NOW:-}" ] && postgres_running; then
    say "postgres: restarting to load the TimescaleDB just installed"
    postgres_stop
  fi
}

# ---------------------------------------------------------------------------------------------
# lifecycle

# The postmaster pid recorded in our data dir, if that process is alive and really is our postmaster
# (its cwd is our data dir) rather than a recycled pid from a stale postmaster.pid.
_pg_postmaster_pid() {
  local pid
  [ -f "$PG_DATA/postmaster.pid" ] || return 1
  pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$(cd "$PG_DATA" && pwd -P)" ] || return 1
  echo "$pid"
}

postgres_running() { _pg_postmaster_pid >/dev/null; }

# Creates the application role (CREATEROLE: migration 0010 makes the gpu_ group roles), the
# sink's and analysts' logins, the database and the extension; safe to run on every start.
_pg_bootstrap() {
  _pg_admin_psql -d postgres >>"$PG_LOG" 2>&1 <<EOF || _pg_fail_with_log "creating role/database $PG_APP_USER failed" "$PG_LOG"
SELECT 'CREATE ROLE $PG_APP_USER' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_APP_USER') \gexec
ALTER ROLE $PG_APP_USER WITH LOGIN CREATEDB NOSUPERUSER CREATEROLE PASSWORD '$PG_APP_PASSWORD';
SELECT 'CREATE DATABASE $PG_APP_DB OWNER $PG_APP_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_APP_DB') \gexec
EOF
  # Login users for the sink and for analysts, members of the group roles that migration 0010 grants
  # to (docs/roles.md): the same file infra/compose.yaml gives the Docker image.
  _pg_admin_psql -d postgres <"$REPO_ROOT/infra/postgres/roles.sql" >>"$PG_LOG" 2>&1 ||
    _pg_fail_with_log "creating the gpu_ roles (infra/postgres/roles.sql) failed" "$PG_LOG"
  # Only a superuser may create timescaledb; the application's migrations say IF NOT EXISTS too.
  # template1 gets it as well (as in the timescaledb image), so databases the gpumon role creates,
  # such as the migration tests' scratch databases, start with it.
  # The built-in job-history retention job is TSL code that errors hourly under the Apache license,
  # and alter_job() is TSL too, so it is unscheduled in the catalog directly.
  # A database made by an older build moves to the installed one; ALTER EXTENSION … UPDATE must be
  # the first statement of its session, hence a session of its own (a no-op when up to date).
  local db
  for db in template1 "$PG_APP_DB"; do
    if [ -n "$(_pg_admin_psql -d "$db" -c "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")" ]; then
      _pg_admin_psql -d "$db" -c 'ALTER EXTENSION timescaledb UPDATE' >>"$PG_LOG" 2>&1 ||
        _pg_fail_with_log "ALTER EXTENSION timescaledb UPDATE in $db failed" "$PG_LOG"
    fi
    _pg_admin_psql -d "$db" >>"$PG_LOG" 2>&1 <<'EOF' || _pg_fail_with_log "CREATE EXTENSION timescaledb in $db failed" "$PG_LOG"
CREATE EXTENSION IF NOT EXISTS timescaledb;
UPDATE _timescaledb_config.bgw_job SET scheduled = false
 WHERE proc_name = 'policy_job_stat_history_retention' AND scheduled
   AND current_setting('timescaledb.license') = 'apache';
EOF
  done
}

postgres_start() {
  port_busy "$PGPORT" && die "postgres: port $PGPORT ($(postgres_address)) is already in use by another process"
  local user
  user=$(_pg_os_user)
  mkdir -p "$PG_SOCKET_DIR"
  touch "$PG_LOG"
  _pg_is_root && chown "$user:" "$PG_SOCKET_DIR" "$PG_LOG"
  chmod 755 "$PG_SOCKET_DIR"
  # -w waits until the server accepts connections (pg_ctl pings the socket recorded in postmaster.pid).
  _pg_as "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t 60 -s ||
    _pg_fail_with_log "server did not start" "$PG_LOG"
  # lib.sh's wait_until (and anyone else) watch the pid in RUN_DIR.
  _pg_postmaster_pid >"$RUN_DIR/postgres.pid" || _pg_fail_with_log "server exited during start" "$PG_LOG"
  _pg_bootstrap
  wait_until postgres 30 "$PG_LOG" postgres_check
}

postgres_stop() {
  if postgres_running; then
    _pg_as "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 -s ||
      _pg_fail_with_log "server did not stop" "$PG_LOG"
  fi
  rm -f "$RUN_DIR/postgres.pid"
}

postgres_check() {
  PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -X -q -At -w \
    "postgresql://$PG_APP_USER:$PG_APP_PASSWORD@localhost:$PGPORT/$PG_APP_DB?connect_timeout=3" \
    -c 'select 1' >/dev/null 2>&1
}

postgres_reset() {
  postgres_running && postgres_stop
  [ -n "$DATA_DIR" ] && rm -rf "$PG_DATA" "$PG_SOCKET_DIR" "$RUN_DIR/postgres.pid"
}

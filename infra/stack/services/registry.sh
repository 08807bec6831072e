# Schema registry: Apicurio Registry (Quarkus, JVM mode) with its Confluent-compatible API.
# Sourced by stack.sh; relies on lib.sh and on Kafka being up (schemas are stored in Kafka).
#
# Why Apicurio: Karapace is not installable from PyPI alone, and Confluent's own registry is not on
# Maven Central. Apicurio's "kafkasql" storage keeps every schema in the Kafka topic kafkasql-journal,
# so schema ids survive a registry restart and old messages stay decodable; nothing goes to PostgreSQL.
# The Confluent API lives under /apis/ccompat/v7 (Apicurio cannot serve it at the root URL).
# Apicurio 3.1+ is compiled for Java 21: the registry runs on the newest Java 21+ found (REGISTRY_JAVA,
# JAVA_HOME, the java on PATH, /usr/lib/jvm/*); a machine with none gets 3.0.9, the last release
# that runs on Java 17, and says so. Kafka itself runs on the java on PATH (17+).
# `registry_reset` only clears local scratch files: the schemas themselves go away with Kafka's data.

REGISTRY_CURRENT_VERSION=3.3.3
REGISTRY_JAVA17_VERSION=3.0.9

# Major version of the java binary $1 (0 when it does not run).
_registry_java_major() { "$1" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p' | grep . || echo 0; }

# Prints the newest java binary of at least major $1 among the candidates; fails when there is none.
_registry_find_java() {
  local want=$1 candidate best="" best_major=0 major
  for candidate in ${REGISTRY_JAVA:-} ${JAVA_HOME:+$JAVA_HOME/bin/java} "$(command -v java 2>/dev/null)" /usr/lib/jvm/*/bin/java; do
    [ -x "$candidate" ] || continue
    major=$(_registry_java_major "$candidate")
    [ "$major" -ge "$want" ] && [ "$major" -gt "$best_major" ] && { best=$candidate; best_major=$major; }
  done
  [ -n "$best" ] && echo "$best"
}

if [ -z "${REGISTRY_VERSION:-}" ]; then
  if REGISTRY_JAVA_BIN=$(_registry_find_java 21); then
    REGISTRY_VERSION=$REGISTRY_CURRENT_VERSION
  else
    REGISTRY_VERSION=$REGISTRY_JAVA17_VERSION
    REGISTRY_JAVA_BIN=$(command -v java || echo java)
    REGISTRY_FALLBACK_NOTE="no Java 21+ found (set REGISTRY_JAVA to one): Apicurio $REGISTRY_JAVA17_VERSION on $("$REGISTRY_JAVA_BIN" -version 2>&1 | head -n 1) instead of $REGISTRY_CURRENT_VERSION"
  fi
else
  case "$REGISTRY_VERSION" in 2.* | 3.0.*) REGISTRY_JAVA_MIN=17 ;; *) REGISTRY_JAVA_MIN=21 ;; esac
  REGISTRY_JAVA_BIN=$(_registry_find_java "$REGISTRY_JAVA_MIN" || true)
fi
REGISTRY_HOME_DIR=$CACHE_DIR/apicurio-registry-$REGISTRY_VERSION
REGISTRY_DATA=$DATA_DIR/registry
REGISTRY_LOG=$LOG_DIR/registry.log
REGISTRY_HEAP_OPTS=${REGISTRY_HEAP_OPTS:--Xms64m -Xmx384m}
REGISTRY_CCOMPAT_PATH=/apis/ccompat/v7

registry_ports() { echo "$SCHEMA_REGISTRY_PORT"; }
# The Confluent-compatible base URL: what SchemaRegistryClient's baseURLs wants.
registry_address() { echo "http://localhost:$SCHEMA_REGISTRY_PORT$REGISTRY_CCOMPAT_PATH"; }
registry_logs() { echo "$REGISTRY_LOG"; }
registry_version() { echo "Apicurio Registry $REGISTRY_VERSION on Java $(_registry_java_major "$REGISTRY_JAVA_BIN")"; }
registry_running() { pid_of registry >/dev/null; }

registry_install() {
  [ -z "${REGISTRY_FALLBACK_NOTE:-}" ] || say "registry: $REGISTRY_FALLBACK_NOTE"
  [ -n "$REGISTRY_JAVA_BIN" ] || die "registry: Apicurio $REGISTRY_VERSION needs Java ${REGISTRY_JAVA_MIN}+ and none was found; set REGISTRY_JAVA to a java binary"
  # The .complete marker is written last, so an interrupted download is redone rather than half-used.
  [ -f "$REGISTRY_HOME_DIR/.complete" ] && return 0
  command -v mvn >/dev/null || die "registry: mvn is not on PATH (needed to fetch Apicurio Registry)"
  local artifact=io.apicurio:apicurio-registry-app:$REGISTRY_VERSION:tar.gz:all
  say "registry: fetching $artifact (~110 MB) with Maven into $REGISTRY_HOME_DIR"
  rm -rf "$REGISTRY_HOME_DIR"
  mkdir -p "$REGISTRY_HOME_DIR/download"
  (cd "$REGISTRY_HOME_DIR" && mvn -q -B dependency:copy -Dartifact="$artifact" -DoutputDirectory=download) \
    >"$REGISTRY_HOME_DIR/mvn.log" 2>&1 ||
    { tail -n 20 "$REGISTRY_HOME_DIR/mvn.log" >&2; die "registry: Maven could not fetch $artifact; log: $REGISTRY_HOME_DIR/mvn.log"; }
  # Maven keeps its own copy in ~/.m2, so the unpacked app is all this folder needs.
  tar -xzf "$REGISTRY_HOME_DIR"/download/*.tar.gz -C "$REGISTRY_HOME_DIR" ||
    die "registry: could not unpack $artifact"
  rm -rf "$REGISTRY_HOME_DIR/download"
  registry_jar >/dev/null || die "registry: $artifact has neither a *-runner.jar nor a quarkus-run.jar"
  touch "$REGISTRY_HOME_DIR/.complete"
}

# The jar to run: 3.0.x ships an uber-jar (*-runner.jar), 3.1+ Quarkus's fast-jar layout (quarkus-run.jar).
registry_jar() {
  local jar
  for jar in "$REGISTRY_HOME_DIR"/*-runner.jar "$REGISTRY_HOME_DIR"/quarkus-run.jar; do
    [ -f "$jar" ] && { echo "$jar"; return 0; }
  done
  return 1
}

registry_start() {
  kafka_check || die "registry: Kafka at $(kafka_address) is not answering; the registry stores its schemas there"
  mkdir -p "$REGISTRY_DATA/tmp"
  # shellcheck disable=SC2206 # REGISTRY_HEAP_OPTS is a list of flags
  local cmd=("$REGISTRY_JAVA_BIN" $REGISTRY_HEAP_OPTS -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k
    -Djava.io.tmpdir="$REGISTRY_DATA/tmp"
    -Dquarkus.http.host=127.0.0.1
    -Dquarkus.http.port="$SCHEMA_REGISTRY_PORT"
    # Newer Apicurio versions open a health/metrics port (9000); keep it local and out of the way.
    -Dquarkus.management.host=127.0.0.1
    -Dquarkus.management.port=0
    -Dapicurio.storage.kind=kafkasql
    -Dapicurio.kafkasql.bootstrap.servers="localhost:$KAFKA_PORT"
    # Topic configs for the topics Apicurio creates (kafkasql-journal, kafkasql-snapshots, registry-events).
    # The journal IS the schema store: with the broker default (7 days) every schema would vanish.
    -Dapicurio.kafkasql.topic.retention.ms=-1
    -Dapicurio.storage.snapshot.location="$REGISTRY_DATA"
    -Dapicurio.import.work-dir="$REGISTRY_DATA/tmp"
    # kafkasql keeps its working copy in an in-memory H2; 20 idle connections is far more than needed.
    -Dapicurio.datasource.jdbc.initial-size=2
    -Dapicurio.datasource.jdbc.min-size=2
    -Dapicurio.datasource.jdbc.max-size=20
    # Lets tests clean up subjects with the Confluent DELETE calls.
    -Dapicurio.rest.artifact.deletion.enabled=true
    -jar "$(registry_jar)")
  spawn registry "$REGISTRY_LOG" "${cmd[@]}"
  wait_until registry 120 "$REGISTRY_LOG" registry_check
}

registry_stop() { stop_pid registry 30; }

# A real Confluent API call; Apicurio only serves HTTP after it has read its Kafka journal at startup.
registry_check() {
  curl -fs --max-time 3 -o /dev/null "$(registry_address)/subjects"
}

registry_reset() { rm -rf "$REGISTRY_DATA"; }

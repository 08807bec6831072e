# Apache Kafka, single node in KRaft combined mode (broker + controller in one JVM).
# Sourced by stack.sh, and by kafka-cluster.sh for each node of a cluster; relies on lib.sh.
# Jars come from Maven Central via `mvn`, nothing else is downloaded.
#
# Kafka 4.x by default; KAFKA_VERSION=3.9.2 still works (docs/kafka-versions.md says what is tested).
# The two lines log differently: 3.x through log4j 1 (reload4j), 4.x through log4j 2.

KAFKA_VERSION=${KAFKA_VERSION:-4.4.0}
KAFKA_HOME_DIR=$CACHE_DIR/kafka-$KAFKA_VERSION
# Heap stays small: the box has 2 cores and little memory to spare next to PG, the registry and Node.
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}

# kafka_node NAME ID PORT CONTROLLER_PORT: the node the functions below act on; NAME names its pid,
# log and data folder. The stack's Kafka is the one node below; kafka-cluster.sh calls this for
# each node of its cluster, and sets the quorum and the replication to match.
kafka_node() {
  KAFKA_NAME=$1 KAFKA_NODE_ID=$2 KAFKA_NODE_PORT=$3 KAFKA_NODE_CONTROLLER_PORT=$4
  KAFKA_DATA=$DATA_DIR/$1
  KAFKA_LOG=$LOG_DIR/$1.log
}
kafka_node kafka 1 "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
KAFKA_VOTERS=1@localhost:$KAFKA_CONTROLLER_PORT
KAFKA_REPLICATION_FACTOR=1
KAFKA_MIN_INSYNC_REPLICAS=1
# Empty: kafka_format makes a new one. A cluster's nodes must all be formatted with the same id.
KAFKA_CLUSTER_ID=
# "user:password ..." turns on SASL/PLAIN on every listener and the StandardAuthorizer: a client must
# log in as one of these users and holds only what ACLs grant it. The first user is the super user,
# whom the node itself logs in as (broker to controller). Empty: plaintext, no authorisation.
KAFKA_SASL_USERS=${KAFKA_SASL_USERS:-}

kafka_ports() { echo "$KAFKA_NODE_PORT $KAFKA_NODE_CONTROLLER_PORT"; }
kafka_address() { echo "localhost:$KAFKA_NODE_PORT"; }
kafka_logs() { echo "$KAFKA_LOG"; }
kafka_version() { echo "Kafka $KAFKA_VERSION (KRaft)"; }
kafka_running() { pid_of "$KAFKA_NAME" >/dev/null; }

kafka_major() { echo "${KAFKA_VERSION%%.*}"; }

# The broker, the storage formatter and the perf tools (ProducerPerformance, ConsumerPerformance)
# all come from these two artifacts. Neither brings an slf4j binding: Kafka's own distribution adds
# slf4j-reload4j to 3.x and log4j 2 (log4j-slf4j-impl, slf4j 1.7's bridge) to 4.x.
kafka_logging_dependencies() {
  if [ "$(kafka_major)" -ge 4 ]; then
    echo '<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>'
    echo '<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>'
  else
    echo '<dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>'
  fi
}

# The -D flag that points the logging backend at FILE.log4j.properties (3.x) or FILE.log4j2.properties (4.x).
kafka_logging_flag() {
  if [ "$(kafka_major)" -ge 4 ]; then echo "-Dlog4j2.configurationFile=$1.log4j2.properties"
  else echo "-Dlog4j.configuration=file:$1.log4j.properties"
  fi
}

# kafka_write_logging FILE LEVEL [System.out|System.err]: console logging at LEVEL, in the format of
# the backend this version uses; writes FILE.log4j2.properties (4.x) or FILE.log4j.properties (3.x).
kafka_write_logging() {
  local file=$1 level=$2 target=${3:-System.out}
  if [ "$(kafka_major)" -ge 4 ]; then
    cat >"$file.log4j2.properties" <<EOF
appender.console.type = Console
appender.console.name = console
appender.console.target = ${target/./_}
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = $level
rootLogger.appenderRef.console.ref = console
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
EOF
  else
    cat >"$file.log4j.properties" <<EOF
log4j.rootLogger=$level, console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.Target=$target
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
EOF
  fi
}

kafka_pom() {
  cat <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.gpumon</groupId>
  <artifactId>kafka-dist</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    $(kafka_logging_dependencies)
  </dependencies>
</project>
EOF
}

kafka_install() {
  # The .complete marker is written last, so an interrupted download is redone rather than half-used.
  [ -f "$KAFKA_HOME_DIR/.complete" ] && return 0
  command -v java >/dev/null || die "kafka: java is not on PATH (Java 17+ needed)"
  command -v mvn >/dev/null || die "kafka: mvn is not on PATH (needed to fetch the Kafka jars)"
  say "kafka: resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION with Maven into $KAFKA_HOME_DIR"
  rm -rf "$KAFKA_HOME_DIR/libs"
  mkdir -p "$KAFKA_HOME_DIR"
  kafka_pom >"$KAFKA_HOME_DIR/pom.xml"
  (cd "$KAFKA_HOME_DIR" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=libs -DincludeScope=runtime) \
    >"$KAFKA_HOME_DIR/mvn.log" 2>&1 ||
    { tail -n 20 "$KAFKA_HOME_DIR/mvn.log" >&2; die "kafka: Maven could not resolve Kafka $KAFKA_VERSION; log: $KAFKA_HOME_DIR/mvn.log"; }
  # For CLI tools run from these jars (TopicCommand, ProducerPerformance, ...): warnings only, on stderr.
  kafka_write_logging "$KAFKA_HOME_DIR/tools" WARN System.err
  touch "$KAFKA_HOME_DIR/.complete"
}

# java + JVM flags + classpath; callers append the main class and its arguments.
kafka_java() {
  # shellcheck disable=SC2206 # KAFKA_HEAP_OPTS is a list of flags
  KAFKA_JAVA=(java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "$(kafka_logging_flag "$KAFKA_DATA/server")"
    -cp "$KAFKA_HOME_DIR/libs/*")
}

# The listeners' part of server.properties: plaintext, or SASL/PLAIN with ACLs when KAFKA_SASL_USERS is set.
kafka_listener_config() {
  local protocol=PLAINTEXT
  [ -n "$KAFKA_SASL_USERS" ] && protocol=SASL_PLAINTEXT
  cat <<EOF
listeners=$protocol://localhost:$KAFKA_NODE_PORT,CONTROLLER://localhost:$KAFKA_NODE_CONTROLLER_PORT
advertised.listeners=$protocol://localhost:$KAFKA_NODE_PORT
listener.security.protocol.map=$protocol:$protocol,CONTROLLER:$protocol
controller.listener.names=CONTROLLER
inter.broker.listener.name=$protocol
EOF
  [ -n "$KAFKA_SASL_USERS" ] || return 0
  local pair super users=()
  for pair in $KAFKA_SASL_USERS; do
    [[ $pair == ?*:?* ]] || die "KAFKA_SASL_USERS: '$pair' is not user:password"
    users+=("user_${pair%%:*}=\"${pair#*:}\"")
  done
  super=${KAFKA_SASL_USERS%% *}
  local jaas="org.apache.kafka.common.security.plain.PlainLoginModule required username=\"${super%%:*}\" password=\"${super#*:}\" ${users[*]};"
  cat <<EOF
sasl.enabled.mechanisms=PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=$jaas
listener.name.controller.plain.sasl.jaas.config=$jaas
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:${super%%:*}
EOF
}

kafka_write_config() {
  local listeners
  # Apart, so that a bad KAFKA_SASL_USERS stops the start.
  listeners=$(kafka_listener_config)
  mkdir -p "$KAFKA_DATA/log"
  cat >"$KAFKA_DATA/server.properties" <<EOF
# Generated by infra/stack/services/kafka.sh on every start; edit that file instead.
process.roles=broker,controller
node.id=$KAFKA_NODE_ID
controller.quorum.voters=$KAFKA_VOTERS
$listeners
log.dirs=$KAFKA_DATA/log
# gpumon creates its own topics (6 partitions); a typo must fail, not silently make a topic.
auto.create.topics.enable=false
num.partitions=6
default.replication.factor=$KAFKA_REPLICATION_FACTOR
offsets.topic.replication.factor=$KAFKA_REPLICATION_FACTOR
transaction.state.log.replication.factor=$KAFKA_REPLICATION_FACTOR
transaction.state.log.min.isr=$KAFKA_MIN_INSYNC_REPLICAS
min.insync.replicas=$KAFKA_MIN_INSYNC_REPLICAS
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=168
EOF
  # Console only: the stack already sends stdout to its log file.
  kafka_write_logging "$KAFKA_DATA/server" INFO
}

# Formatting is once per data dir; meta.properties is how Kafka itself marks a formatted dir.
kafka_format() {
  [ -f "$KAFKA_DATA/log/meta.properties" ] && return 0
  say "$KAFKA_NAME: formatting KRaft storage in $KAFKA_DATA/log"
  kafka_java
  if [ -z "$KAFKA_CLUSTER_ID" ]; then
    KAFKA_CLUSTER_ID=$("${KAFKA_JAVA[@]}" kafka.tools.StorageTool random-uuid 2>>"$KAFKA_LOG" | tail -n 1) ||
      die "$KAFKA_NAME: could not generate a cluster id; log: $KAFKA_LOG"
  fi
  "${KAFKA_JAVA[@]}" kafka.tools.StorageTool format --ignore-formatted -t "$KAFKA_CLUSTER_ID" \
    -c "$KAFKA_DATA/server.properties" >>"$KAFKA_LOG" 2>&1 ||
    die "$KAFKA_NAME: formatting storage failed; log: $KAFKA_LOG"
}

# Starting and waiting are apart for a cluster: a node only answers once a quorum of voters is up.
kafka_spawn() {
  kafka_write_config
  kafka_format
  kafka_java
  spawn "$KAFKA_NAME" "$KAFKA_LOG" "${KAFKA_JAVA[@]}" kafka.Kafka "$KAFKA_DATA/server.properties"
}

kafka_wait() { wait_until "$KAFKA_NAME" 90 "$KAFKA_LOG" kafka_check; }

kafka_start() {
  kafka_spawn
  kafka_wait
}

kafka_stop() { stop_pid "$KAFKA_NAME" 60; }

# One of Kafka's command-line tools from the same jars (perf tests, TopicCommand): class name, then its arguments.
kafka_tool() {
  kafka_install
  java -Xmx512m "$(kafka_logging_flag "$KAFKA_HOME_DIR/tools")" -cp "$KAFKA_HOME_DIR/libs/*" "$@"
}

# A real Kafka round trip without a JVM: a Metadata v1 request (no topics) over bash's /dev/tcp.
# The broker only serves clients once it has joined the KRaft quorum, so an answer naming at least
# one broker means it is ready. Reply: size(4) correlation_id(4)=1 broker_count(4)>=1.
# A SASL listener answers nothing but ApiVersions before a login: there, an ApiVersions v0 answered
# without error, which the listener gives only once the node has started.
kafka_check() {
  local hex
  if [ -n "$KAFKA_SASL_USERS" ]; then
    # shellcheck disable=SC2016 # the inner script gets the port as $1
    hex=$(timeout 3 bash -c '
      exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
      # size=12 api_key=18 api_version=0 correlation_id=1 client_id="gm"; reply: size(4) correlation_id(4)=1 error_code(2)=0
      printf "\x00\x00\x00\x0c\x00\x12\x00\x00\x00\x00\x00\x01\x00\x02gm" >&3
      head -c 10 <&3 | od -An -v -tx1' _ "$KAFKA_NODE_PORT" 2>/dev/null) || return 1
    hex=${hex//[[:space:]]/}
    [ "${#hex}" -eq 20 ] && [ "${hex:8:12}" = 000000010000 ]
    return
  fi
  # shellcheck disable=SC2016 # the inner script gets the port as $1
  hex=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    # size=16 api_key=3 api_version=1 correlation_id=1 client_id="gm" topics=[] (empty array)
    printf "\x00\x00\x00\x10\x00\x03\x00\x01\x00\x00\x00\x01\x00\x02gm\x00\x00\x00\x00" >&3
    head -c 12 <&3 | od -An -v -tx1' _ "$KAFKA_NODE_PORT" 2>/dev/null) || return 1
  hex=${hex//[[:space:]]/}
  [ "${#hex}" -eq 24 ] && [ "${hex:8:8}" = 00000001 ] && [ "${hex:16:8}" != 00000000 ]
}

kafka_reset() { rm -rf "$KAFKA_DATA"; }

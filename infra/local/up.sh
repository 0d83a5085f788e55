#!/usr/bin/env bash
# Starts a single-node Kafka (KRaft, broker+controller) and Apicurio Registry on
# 127.0.0.1 with Java 17, from artifacts fetched from Maven Central into a cache.
# Waits until each really answers. Running it again while both run says so.
# `up.sh kafka` or `up.sh registry` starts only that one (the fault suite restarts them
# one at a time); the registry keeps its schemas on disk, so ids survive a restart.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v node >/dev/null || die "node is needed for the readiness probe (. scripts/node-env.sh)"
require_java17

only="${1:-all}"
case "$only" in all | kafka | registry) ;; *) die "usage: up.sh [kafka|registry]" ;; esac

if [ "$only" = all ] && pid_alive "$KAFKA_PID" && pid_alive "$REGISTRY_PID"; then
  say "already running: Kafka at $KAFKA_BOOTSTRAP (pid $(cat "$KAFKA_PID")), registry at $REGISTRY_URL (pid $(cat "$REGISTRY_PID")); 'npm run infra:down' stops them"
  exit 0
fi

"$INFRA_LOCAL_DIR/fetch.sh"
mkdir -p "$RUN_DIR" "$LOG_DIR"

wait_for() { # name, pidfile, logfile, probe args...
  local name="$1" pidfile="$2" log="$3"; shift 3
  local deadline=$((SECONDS + START_TIMEOUT_S)) out
  while :; do
    if out="$(node "$INFRA_LOCAL_DIR/probe.mjs" "$@" 2>&1)"; then say "$out"; return 0; fi
    if ! pid_alive "$pidfile"; then
      tail -n 20 "$log" >&2 || true
      die "$name exited during start-up; see $log"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 20 "$log" >&2 || true
      die "$name did not answer within ${START_TIMEOUT_S}s ($out); see $log"
    fi
    sleep 0.5
  done
}

start_kafka() {
  if pid_alive "$KAFKA_PID"; then say "Kafka already running (pid $(cat "$KAFKA_PID"))"; return; fi
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process; set CHURN_KAFKA_PORT"
  port_open "$KAFKA_CONTROLLER_PORT" && die "port $KAFKA_CONTROLLER_PORT is taken by another process; set CHURN_KAFKA_CONTROLLER_PORT"
  local props="$RUN_DIR/server.properties"
  cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DATA
num.partitions=3
auto.create.topics.enable=false
# One broker: internal topics must not ask for more replicas than exist, or
# transactions and consumer groups never become available.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
message.max.bytes=2097152
PROPS
  if [ ! -f "$KAFKA_DATA/meta.properties" ]; then
    local cluster_id
    cluster_id="$("$JAVA" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    "$JAVA" -Dlog4j2.configurationFile="$INFRA_LOCAL_DIR/kafka/log4j2.yaml" -Dkafka.logs.dir="$LOG_DIR" \
      -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$props" \
      >"$LOG_DIR/kafka-format.log" 2>&1 || { cat "$LOG_DIR/kafka-format.log" >&2; die "formatting Kafka storage failed"; }
  fi
  say "starting Kafka $KAFKA_VERSION on $KAFKA_BOOTSTRAP"
  # shellcheck disable=SC2086
  nohup "$JAVA" $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$INFRA_LOCAL_DIR/kafka/log4j2.yaml" -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$props" >"$LOG_DIR/kafka.out" 2>&1 &
  echo $! >"$KAFKA_PID"
}

start_registry() {
  if pid_alive "$REGISTRY_PID"; then say "registry already running (pid $(cat "$REGISTRY_PID"))"; return; fi
  port_open "$REGISTRY_PORT" && die "port $REGISTRY_PORT is taken by another process; set CHURN_REGISTRY_PORT"
  mkdir -p "$REGISTRY_DATA"
  say "starting Apicurio Registry $APICURIO_VERSION on http://127.0.0.1:$REGISTRY_PORT (H2 storage in $REGISTRY_DATA)"
  # The pid file must name the java process itself (not a subshell around it), so that
  # down.sh stops the registry: `&` goes on the java command alone.
  # shellcheck disable=SC2086
  (cd "$APICURIO_HOME" || exit 1
    nohup "$JAVA" $REGISTRY_HEAP \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.log.level=WARN -Dquarkus.log.category.\"io.apicurio\".level=INFO \
    -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 \
    -Dapicurio.datasource.url="jdbc:h2:file:$REGISTRY_DATA/registry;DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0" \
    -Dapicurio.rest.deletion.artifact.enabled=true \
    -Dapicurio.rest.deletion.artifact-version.enabled=true \
    -Dapicurio.rest.deletion.group.enabled=true \
    -jar apicurio-registry-app-*-runner.jar >"$LOG_DIR/registry.log" 2>&1 &
    echo $! >"$REGISTRY_PID")
}

started=$SECONDS
if [ "$only" != registry ]; then start_kafka; fi
if [ "$only" != kafka ]; then start_registry; fi
if [ "$only" != registry ]; then wait_for Kafka "$KAFKA_PID" "$LOG_DIR/server.log" kafka "$KAFKA_BOOTSTRAP"; fi
if [ "$only" != kafka ]; then wait_for "the registry" "$REGISTRY_PID" "$LOG_DIR/registry.log" registry "$REGISTRY_URL"; fi
say "ready in $((SECONDS - started))s"
cat <<ENV
KAFKA_BROKERS=$KAFKA_BOOTSTRAP
SCHEMA_REGISTRY_URL=$REGISTRY_URL
ENV

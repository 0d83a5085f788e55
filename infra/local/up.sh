#!/usr/bin/env bash
# Starts a single-node Kafka (KRaft, broker+controller) and Apicurio Registry on
# 127.0.0.1 with Java 17, from artifacts fetched from Maven Central into a cache.
# Waits until each really answers. Running it again while both run says so.
# `up.sh kafka` or `up.sh registry` starts only that one (the fault suite restarts them
# one at a time); the registry keeps its schemas on disk, so ids survive a restart.
# Kafka listens twice: PLAINTEXT on $CHURN_KAFKA_PORT for everything, and SASL_SSL
# (SCRAM-SHA-512, certificate from a self-signed CA made on first start) on
# $CHURN_KAFKA_SASL_PORT for clients that authenticate.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$INFRA_LOCAL_DIR/usage.sh"

only=all
for arg in "$@"; do
  case "$arg" in
    -h | --help)
      script_usage "bash infra/local/up.sh [kafka|registry]   (npm run infra:up)" "${BASH_SOURCE[0]}" "$INFRA_LOCAL_DIR/fetch.sh"
      exit 0
      ;;
    kafka | registry)
      [ "$only" = all ] || usage_error up.sh "takes kafka or registry, not both"
      only="$arg"
      ;;
    -*) usage_error up.sh "unknown option $arg" ;;
    *) usage_error up.sh "unknown argument $arg" ;;
  esac
done

command -v node >/dev/null || die "node is needed for the readiness probe (. scripts/node-env.sh)"
require_java17

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

# Which SCRAM user and password the storage was formatted with (a hash, not the password).
SCRAM_MARK="$RUN_DIR/kafka-scram-user"
scram_fingerprint() { printf '%s\n%s' "$KAFKA_SASL_USERNAME" "$KAFKA_SASL_PASSWORD" | sha256sum | cut -d' ' -f1; }

# A CA and a broker certificate for 127.0.0.1 and localhost signed by it, in a PKCS12
# keystore for the broker and the CA as PEM for clients. Made once per $RUN_DIR and kept
# across restarts and infra:down, so that clients can keep trusting the same CA file.
ensure_tls() {
  if [ -f "$TLS_DIR/broker.p12" ] && [ -f "$KAFKA_CA_FILE" ] && [ -f "$TLS_DIR/store.pass" ]; then return; fi
  local kt tmp pass
  kt="$(keytool_bin)"
  [ -n "$kt" ] || die "no keytool next to $JAVA or on PATH; it comes with the JDK/JRE"
  tmp="$RUN_DIR/tls.tmp"
  rm -rf "$tmp" && mkdir -p "$tmp" && chmod 700 "$tmp"
  pass="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  printf '%s' "$pass" >"$tmp/store.pass"
  say "making a self-signed CA and a broker certificate in $TLS_DIR"
  (cd "$tmp" || exit 1
    k() { "$kt" -J-XX:TieredStopAtLevel=1 -J-Xshare:auto "$@" -storetype PKCS12 -storepass "$pass" 2>&1; }
    k -genkeypair -alias ca -keyalg EC -groupname secp256r1 -validity 3650 -dname "CN=churn local CA" \
      -ext bc:c -keystore ca.p12 &&
      k -exportcert -rfc -alias ca -keystore ca.p12 -file ca.pem &&
      k -genkeypair -alias broker -keyalg EC -groupname secp256r1 -validity 3650 -dname "CN=localhost" \
        -keystore broker.p12 &&
      k -certreq -alias broker -keystore broker.p12 -file broker.csr &&
      k -gencert -alias ca -keystore ca.p12 -infile broker.csr -outfile broker.pem -rfc -validity 3650 \
        -ext san=ip:127.0.0.1,dns:localhost -ext eku=serverAuth &&
      k -importcert -noprompt -alias ca -file ca.pem -keystore broker.p12 &&
      k -importcert -noprompt -alias broker -file broker.pem -keystore broker.p12
  ) >"$LOG_DIR/keytool.log" || { cat "$LOG_DIR/keytool.log" >&2; die "making the TLS certificates failed"; }
  rm -f "$tmp/broker.csr" "$tmp/ca.p12"
  rm -rf "$TLS_DIR" && mv "$tmp" "$TLS_DIR"
}

start_kafka() {
  if pid_alive "$KAFKA_PID"; then say "Kafka already running (pid $(cat "$KAFKA_PID"))"; return; fi
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process; set CHURN_KAFKA_PORT"
  port_open "$KAFKA_CONTROLLER_PORT" && die "port $KAFKA_CONTROLLER_PORT is taken by another process; set CHURN_KAFKA_CONTROLLER_PORT"
  port_open "$KAFKA_SASL_PORT" && die "port $KAFKA_SASL_PORT is taken by another process; set CHURN_KAFKA_SASL_PORT"
  ensure_tls
  local props="$RUN_DIR/server.properties"
  cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
# SASL_SSL: SCRAM-SHA-512 users (created at format time), TLS from the local CA, no client certificates.
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$TLS_DIR/broker.p12
listener.name.sasl_ssl.ssl.keystore.password=$(cat "$TLS_DIR/store.pass")
listener.name.sasl_ssl.ssl.client.auth=none
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
      --add-scram "SCRAM-SHA-512=[name=$KAFKA_SASL_USERNAME,password=$KAFKA_SASL_PASSWORD]" \
      >"$LOG_DIR/kafka-format.log" 2>&1 || { cat "$LOG_DIR/kafka-format.log" >&2; die "formatting Kafka storage failed"; }
    scram_fingerprint >"$SCRAM_MARK"
  elif [ "$(cat "$SCRAM_MARK" 2>/dev/null)" != "$(scram_fingerprint)" ]; then
    say "warning: this Kafka data was formatted without SCRAM user '$KAFKA_SASL_USERNAME' or with another password; the SASL_SSL listener will refuse it until 'npm run infra:down' wipes the data"
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
# The registry first: its start-up overlaps with making the certificates on a first start.
if [ "$only" != kafka ]; then start_registry; fi
if [ "$only" != registry ]; then start_kafka; fi
if [ "$only" != registry ]; then
  wait_for Kafka "$KAFKA_PID" "$LOG_DIR/server.log" kafka "$KAFKA_BOOTSTRAP"
  wait_for "Kafka's SASL_SSL listener" "$KAFKA_PID" "$LOG_DIR/server.log" tls "$KAFKA_SASL_BOOTSTRAP" "$KAFKA_CA_FILE"
fi
if [ "$only" != kafka ]; then wait_for "the registry" "$REGISTRY_PID" "$LOG_DIR/registry.log" registry "$REGISTRY_URL"; fi
say "ready in $((SECONDS - started))s"
cat <<ENV
KAFKA_BROKERS=$KAFKA_BOOTSTRAP
SCHEMA_REGISTRY_URL=$REGISTRY_URL
# SASL_SSL listener: KAFKA_SECURITY_PROTOCOL=SASL_SSL, KAFKA_SASL_USERNAME=$KAFKA_SASL_USERNAME,
# KAFKA_SASL_PASSWORD from CHURN_KAFKA_SASL_PASSWORD (default churn-secret)
KAFKA_SASL_BROKERS=$KAFKA_SASL_BOOTSTRAP
KAFKA_SSL_CA_FILE=$KAFKA_CA_FILE
ENV

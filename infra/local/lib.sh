# shellcheck shell=bash
# Shared settings for the local, Docker-free broker and registry.
# Every value can be overridden from the environment.

INFRA_LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$INFRA_LOCAL_DIR/../.." && pwd)"

KAFKA_VERSION="${CHURN_KAFKA_VERSION:-4.4.0}"
APICURIO_VERSION="${CHURN_APICURIO_VERSION:-3.0.9}"
KAFKA_PORT="${CHURN_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${CHURN_KAFKA_CONTROLLER_PORT:-19093}"
# A second listener, SASL_SSL with SCRAM-SHA-512, for clients that authenticate; the
# user is created when the storage is formatted, so its password is fixed until infra:down.
KAFKA_SASL_PORT="${CHURN_KAFKA_SASL_PORT:-19094}"
KAFKA_SASL_USERNAME="${CHURN_KAFKA_SASL_USERNAME:-churn}"
KAFKA_SASL_PASSWORD="${CHURN_KAFKA_SASL_PASSWORD:-churn-secret}"
REGISTRY_PORT="${CHURN_REGISTRY_PORT:-18081}"
KAFKA_HEAP="${CHURN_KAFKA_HEAP:--Xms256m -Xmx1g}"
REGISTRY_HEAP="${CHURN_REGISTRY_HEAP:--Xms128m -Xmx512m}"
START_TIMEOUT_S="${CHURN_INFRA_START_TIMEOUT_S:-120}"

# Downloads survive between runs on the same machine; runtime data does not need to.
CACHE_DIR="${CHURN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/churn-pipeline}"
KAFKA_LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
APICURIO_HOME="$CACHE_DIR/apicurio-$APICURIO_VERSION"
RUN_DIR="${CHURN_INFRA_DIR:-$REPO_ROOT/.churn/infra}"
KAFKA_DATA="$RUN_DIR/kafka-data"
REGISTRY_DATA="$RUN_DIR/registry-data"
LOG_DIR="$RUN_DIR/logs"
KAFKA_PID="$RUN_DIR/kafka.pid"
REGISTRY_PID="$RUN_DIR/registry.pid"
# Self-signed CA and the broker's certificate, made on first start and kept.
TLS_DIR="$RUN_DIR/tls"
KAFKA_CA_FILE="$TLS_DIR/ca.pem"

KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
KAFKA_SASL_BOOTSTRAP="127.0.0.1:$KAFKA_SASL_PORT"
REGISTRY_URL="http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"

say() { printf 'infra: %s\n' "$*" >&2; }
die() { printf 'infra: error: %s\n' "$*" >&2; exit 1; }

# go_build_once NAME VERSION BINARY BUILD: unless BINARY is executable, runs the function
# BUILD (a Go build from the module proxy into BINARY's folder) with its output in
# $CACHE_DIR/NAME-build.log; when it fails, shows the log's end, removes BINARY's folder
# and stops. For ../tools/helm.sh and ../tools/promtool.sh.
go_build_once() {
  local name="$1" version="$2" binary="$3" build="$4" log="$CACHE_DIR/$1-build.log"
  [ -x "$binary" ] && return 0
  command -v go >/dev/null || die "Go is needed to build $name (Debian: apt-get install golang)"
  say "building $name $version from the Go module proxy (a few minutes, once)"
  mkdir -p "$(dirname "$binary")"
  "$build" >"$log" 2>&1 || { tail -n 30 "$log" >&2; rm -rf "$(dirname "$binary")"; die "could not build $name (log: $log)"; }
}

java_bin() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then echo "$JAVA_HOME/bin/java"; return; fi
  command -v java || true
}

require_java17() {
  local j major
  j="$(java_bin)"
  [ -n "$j" ] || die "no java on PATH; install Java 17 (Debian: apt-get install openjdk-17-jre-headless)"
  major="$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1)"
  [ "${major:-0}" -ge 17 ] || die "java $major found at $j; Java 17 or newer is needed"
  JAVA="$j"
}

keytool_bin() {
  local j
  j="$(java_bin)"
  if [ -n "$j" ] && [ -x "$(dirname "$j")/keytool" ]; then echo "$(dirname "$j")/keytool"; return; fi
  command -v keytool || true
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

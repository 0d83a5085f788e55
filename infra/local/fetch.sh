#!/usr/bin/env bash
# Downloads the Kafka broker (jars and runtime dependencies, via Maven) and Apicurio
# Registry (the `all` tarball) from Maven Central into the cache. Idempotent.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

fetch_kafka() {
  # The marker holds a hash of the POM, so that a changed dependency list fetches anew.
  local pom_hash
  pom_hash="$(sha256sum "$INFRA_LOCAL_DIR/pom.xml" | cut -d' ' -f1)"
  if [ -f "$KAFKA_LIBS/.complete" ] && [ "$(cat "$KAFKA_LIBS/.complete")" = "$pom_hash" ]; then return; fi
  command -v mvn >/dev/null || die "Maven is needed to fetch Kafka (Debian: apt-get install maven)"
  say "fetching Apache Kafka $KAFKA_VERSION and its dependencies from Maven Central"
  rm -rf "$KAFKA_LIBS"; mkdir -p "$KAFKA_LIBS"
  mvn -B -q -f "$INFRA_LOCAL_DIR/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" \
    >"$CACHE_DIR/mvn-kafka.log" 2>&1 || { tail -n 30 "$CACHE_DIR/mvn-kafka.log" >&2; die "Maven could not fetch Kafka (log: $CACHE_DIR/mvn-kafka.log)"; }
  ls "$KAFKA_LIBS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null || die "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"
  echo "$pom_hash" >"$KAFKA_LIBS/.complete"
}

fetch_apicurio() {
  if [ -f "$APICURIO_HOME/.complete" ]; then return; fi
  local url tmp
  url="${CHURN_MAVEN_URL:-https://repo1.maven.org/maven2}/io/apicurio/apicurio-registry-app/$APICURIO_VERSION/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz"
  say "fetching Apicurio Registry $APICURIO_VERSION from Maven Central"
  rm -rf "$APICURIO_HOME"; mkdir -p "$APICURIO_HOME"
  tmp="$APICURIO_HOME.tar.gz.part"
  curl -fsSL --retry 3 -o "$tmp" "$url" || die "could not download $url"
  tar xzf "$tmp" -C "$APICURIO_HOME" || die "could not unpack $tmp"
  rm -f "$tmp"
  ls "$APICURIO_HOME"/apicurio-registry-app-*-runner.jar >/dev/null || die "runner jar missing in the Apicurio tarball"
  touch "$APICURIO_HOME/.complete"
}

mkdir -p "$CACHE_DIR"
fetch_kafka
fetch_apicurio

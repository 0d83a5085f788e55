#!/usr/bin/env bash
# Says whether the local broker and registry run and answer. Exit 0 when both answer.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$INFRA_LOCAL_DIR/usage.sh"
no_arguments "bash infra/local/status.sh   (npm run infra:status)" "${BASH_SOURCE[0]}" "$@"
rc=0
report() { # name, pidfile, probe args...
  local name="$1" pidfile="$2"; shift 2
  if pid_alive "$pidfile"; then
    printf '%-10s running (pid %s): %s\n' "$name" "$(cat "$pidfile")" "$(node "$INFRA_LOCAL_DIR/probe.mjs" "$@")" || rc=1
  else
    printf '%-10s not running\n' "$name"; rc=1
  fi
}
report kafka "$KAFKA_PID" kafka "$KAFKA_BOOTSTRAP"
report kafka-sasl "$KAFKA_PID" tls "$KAFKA_SASL_BOOTSTRAP" "$KAFKA_CA_FILE"
report registry "$REGISTRY_PID" registry "$REGISTRY_URL"
printf 'versions: Kafka %s, Apicurio Registry %s; logs in %s\n' "$KAFKA_VERSION" "$APICURIO_VERSION" "$LOG_DIR"
exit $rc

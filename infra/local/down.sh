#!/usr/bin/env bash
# Stops the local broker and registry started by up.sh and removes their runtime data.
# Safe to run when nothing runs.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stop() { # name, pidfile
  local name="$1" pidfile="$2" pid
  if ! pid_alive "$pidfile"; then rm -f "$pidfile"; say "$name is not running"; return; fi
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then say "$name did not stop within 15s; killing it"; kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
  say "$name stopped"
}

stop "the registry" "$REGISTRY_PID"
stop Kafka "$KAFKA_PID"
# The registry keeps its data in memory; Kafka's log dirs are removed so that the next
# start begins from an empty cluster (set CHURN_INFRA_KEEP_DATA=1 to keep them).
if [ "${CHURN_INFRA_KEEP_DATA:-0}" != 1 ]; then rm -rf "$KAFKA_DATA"; fi

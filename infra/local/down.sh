#!/usr/bin/env bash
# Stops the local broker and registry started by up.sh and removes their runtime data.
# Safe to run when nothing runs. `down.sh kafka|registry` stops only that one and keeps
# its data (the fault suite restarts it); `--kill` sends SIGKILL instead of SIGTERM.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$INFRA_LOCAL_DIR/usage.sh"

only=all signal=TERM
for arg in "$@"; do
  case "$arg" in
    -h | --help)
      script_usage "bash infra/local/down.sh [kafka|registry] [--kill]   (npm run infra:down)" "${BASH_SOURCE[0]}"
      exit 0
      ;;
    kafka | registry) only="$arg" ;;
    --kill) signal=KILL ;;
    -*) usage_error down.sh "unknown option $arg" ;;
    *) usage_error down.sh "unknown argument $arg" ;;
  esac
done

stop() { # name, pidfile
  local name="$1" pidfile="$2" pid
  if ! pid_alive "$pidfile"; then rm -f "$pidfile"; say "$name is not running"; return; fi
  pid="$(cat "$pidfile")"
  kill -s "$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then say "$name did not stop within 15s; killing it"; kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
  say "$name stopped"
}

if [ "$only" != kafka ]; then stop "the registry" "$REGISTRY_PID"; fi
if [ "$only" != registry ]; then stop Kafka "$KAFKA_PID"; fi
# A full stop removes Kafka's log dirs and the registry's database, so that the next
# start begins from an empty cluster (set CHURN_INFRA_KEEP_DATA=1 to keep them).
if [ "$only" = all ] && [ "${CHURN_INFRA_KEEP_DATA:-0}" != 1 ]; then rm -rf "$KAFKA_DATA" "$REGISTRY_DATA"; fi

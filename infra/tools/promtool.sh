#!/usr/bin/env bash
# Prints the path of a promtool of the Prometheus version docker-compose.yml runs
# (prom/prometheus:vX.Y.Z), building it first from the Go module proxy when the cache has
# none (the same cache as the local broker and registry: CHURN_CACHE_DIR). The rules'
# unit tests run under it as well as under Debian's promtool, so that they hold for the
# Prometheus that loads them.
#   CHURN_PROMTOOL_COMPOSE="$(bash infra/tools/promtool.sh)"
# Needs Go (1.24 or newer); the first build takes a few minutes, later calls are instant.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"
. "$INFRA_LOCAL_DIR/usage.sh"
no_arguments "bash infra/tools/promtool.sh" "${BASH_SOURCE[0]}" "$@"

# Prometheus 3.Y.Z is the Go module version v0.3YY.Z (two digits for the minor version).
PROMETHEUS_VERSION="$(sed -n 's/^ *image: *prom\/prometheus:v\([0-9][0-9.]*\) *$/\1/p' "$REPO_ROOT/docker-compose.yml" | head -n 1)"
[ -n "$PROMETHEUS_VERSION" ] || die "docker-compose.yml names no prom/prometheus:vX.Y.Z image"
IFS=. read -r major minor patch <<<"$PROMETHEUS_VERSION"
MODULE_VERSION="v0.$((major * 100 + minor)).$patch"
PROMTOOL_DIR="$CACHE_DIR/promtool-$PROMETHEUS_VERSION"
build_promtool() (
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # The Prometheus module carries replace directives, which `go install mod@version`
  # refuses: build it inside a module of our own that repeats them.
  cd "$work"
  export GOFLAGS=-mod=mod
  go mod init churn-promtool
  gomod="$(go mod download -json "github.com/prometheus/prometheus@$MODULE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [ -f "$gomod" ] || { echo "no go.mod downloaded for $MODULE_VERSION"; exit 1; }
  awk '/^replace \(/ { block = 1 } block || /^replace / { print } /^\)/ { block = 0 }' "$gomod" >>go.mod
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/prometheus/prometheus/cmd/promtool"\n' >tools.go
  go get "github.com/prometheus/prometheus@$MODULE_VERSION"
  go build -o "$PROMTOOL_DIR/promtool" \
    -ldflags "-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION" \
    github.com/prometheus/prometheus/cmd/promtool
)
go_build_once promtool "$PROMETHEUS_VERSION ($MODULE_VERSION)" "$PROMTOOL_DIR/promtool" build_promtool
echo "$PROMTOOL_DIR/promtool"

#!/usr/bin/env bash
# Prints the path of a helm binary, building it first from the Go module proxy when the
# cache has none (the same cache as the local broker and registry: CHURN_CACHE_DIR).
#   CHURN_HELM="$(bash infra/tools/helm.sh)"
# Needs Go (1.24 or newer); the first build takes a few minutes, later calls are instant.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"
. "$INFRA_LOCAL_DIR/usage.sh"
no_arguments "bash infra/tools/helm.sh" "${BASH_SOURCE[0]}" "$@"

HELM_VERSION="${CHURN_HELM_VERSION:-v3.22.0}"
HELM_DIR="$CACHE_DIR/helm-$HELM_VERSION"
if [ ! -x "$HELM_DIR/helm" ]; then
  command -v go >/dev/null || die "Go is needed to build helm (Debian: apt-get install golang)"
  say "building helm $HELM_VERSION from the Go module proxy (a few minutes, once)"
  mkdir -p "$HELM_DIR"
  GOBIN="$HELM_DIR" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
    >"$CACHE_DIR/helm-build.log" 2>&1 || { tail -n 30 "$CACHE_DIR/helm-build.log" >&2; die "could not build helm (log: $CACHE_DIR/helm-build.log)"; }
fi
echo "$HELM_DIR/helm"

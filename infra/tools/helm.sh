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
build_helm() { GOBIN="$HELM_DIR" GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"; }
go_build_once helm "$HELM_VERSION" "$HELM_DIR/helm" build_helm
echo "$HELM_DIR/helm"

#!/usr/bin/env bash
# Builds (once) and prints the path of a helm binary, from the helm.sh/helm/v3 Go module with the machine's Go
# toolchain, cached by version in ${LAGSCALER_CACHE:-~/.cache/lagscaler}/helm/v<version>/. HELM_BIN, when set to
# an executable, is used instead. stdout carries only the path; progress goes to stderr.
set -euo pipefail

HELM_VERSION="${LAGSCALER_HELM_VERSION:-3.22.0}"
log() { printf '[helm-binary] %s\n' "$*" >&2; }

if [ -n "${HELM_BIN:-}" ] && [ -x "$HELM_BIN" ]; then echo "$HELM_BIN"; exit 0; fi

out="${LAGSCALER_CACHE:-$HOME/.cache/lagscaler}/helm/v$HELM_VERSION"
if [ -x "$out/helm" ]; then echo "$out/helm"; exit 0; fi

command -v go >/dev/null || { log "go is not on PATH; install Go 1.26 or set HELM_BIN"; exit 1; }
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if [ -x "$out/helm" ]; then echo "$out/helm"; exit 0; fi

log "building helm v$HELM_VERSION from helm.sh/helm/v3 (a few minutes on 2 cores)"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" CGO_ENABLED=0 GOFLAGS=-mod=mod
GOBIN="$out" go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" \
  "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION" >&2
log "built $out/helm"
echo "$out/helm"

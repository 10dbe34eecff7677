#!/usr/bin/env bash
# Prints the path of the Grafana dashboard KEDA ships (config/grafana/keda-dashboard.json in its Go module,
# github.com/kedacore/keda/v2, fetched once through the Go module proxy into the Go module cache, about 3 MB).
# The dashboard test runs its queries against lagscaler's /metrics. stdout carries only the path.
set -euo pipefail
version="${LAGSCALER_KEDA_VERSION:-v2.21.0}"
command -v go >/dev/null || { echo "[keda-dashboard] go is not on PATH" >&2; exit 1; }
dir="$(go mod download -json "github.com/kedacore/keda/v2@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -f "$dir/config/grafana/keda-dashboard.json" ] || { echo "[keda-dashboard] no dashboard in $dir" >&2; exit 1; }
echo "$dir/config/grafana/keda-dashboard.json"

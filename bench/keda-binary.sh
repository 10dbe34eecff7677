#!/usr/bin/env bash
# Builds KEDA's operator from its Go module (github.com/kedacore/keda/v2, through the Go module proxy) for the
# side-by-side idle-cost benchmark. Cached in ~/.cache/lagscaler/keda-src (about 11 minutes on 2 cores the first time).
# Usage: bench/keda-binary.sh [version=v2.21.0]; prints the binary's path.
set -euo pipefail
version="${1:-v2.21.0}"
home="${HOME}/.cache/lagscaler/keda-src"
binary="$home/keda-operator"
if [[ -x "$binary" && -f "$home/version" && "$(cat "$home/version")" == "$version" ]]; then
  echo "$binary"; exit 0
fi
mkdir -p "$home"
module="$(go env GOMODCACHE)/github.com/kedacore/keda/v2@$version"
[[ -d "$module" ]] || go mod download "github.com/kedacore/keda/v2@$version"
rm -rf "$home/keda" && cp -r "$module" "$home/keda" && chmod -R u+w "$home/keda"
(cd "$home/keda" && go build -o "$binary" ./cmd/operator) >&2
echo "$version" > "$home/version"
echo "$binary"

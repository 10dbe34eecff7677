#!/usr/bin/env bash
# Apiserver requests per minute made by the operator for idle and for active ScaledObjects, from kube-apiserver's own
# apiserver_request_total (operator running minus operator stopped).
# Usage: bench/apiserver-load.sh [objects=100] [window seconds=30] [label=current].
# Writes bench/results/apiserver-load-<label>.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -B -Pbench -pl bench -am -DskipTests package
exec java -Dlagscaler.home="$root" -cp "bench/target/classes:bench/target/lib/*" dev.lagscaler.bench.ApiserverLoadBenchmark "$@"

#!/usr/bin/env bash
# Metrics adapter benchmark: the adapter against a bare Vert.x TLS server (the ceiling) in one run, loaded by the same
# client process; the aggregator's path (HTTP/2, client certificate) and the bearer-token path; 100 to 10,000 metrics.
# Usage: bench/metrics-adapter.sh [seconds per row=10] [connections=32]. Writes bench/results/metrics-adapter.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -B -Pbench -pl bench -am -DskipTests package
exec java -Dlagscaler.home="$root" -cp "bench/target/classes:bench/target/lib/*" dev.lagscaler.bench.AdapterBenchmark "$@"

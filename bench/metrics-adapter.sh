#!/usr/bin/env bash
# Metrics adapter benchmark: wrk over TLS against the adapter holding 1,000 ScaledObjects' metrics.
# Usage: bench/metrics-adapter.sh [seconds=20] [connections=32]. Writes bench/results/metrics-adapter.md.
# Needs wrk (Debian package "wrk"; installed here when missing and running as root).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; else
    echo "install wrk (apt-get install wrk) first" >&2; exit 1; fi
fi
./mvnw -q -B -Pbench -pl bench -am -DskipTests package
exec java -Dlagscaler.home="$root" -cp "bench/target/classes:bench/target/lib/*" dev.lagscaler.bench.AdapterBenchmark "$@"

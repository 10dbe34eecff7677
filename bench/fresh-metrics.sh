#!/usr/bin/env bash
# Fresh values for the HPA (useCachedMetrics false vs true): the age of the value the HPA reads and its Kafka cost,
# at 1 and 1,000 active objects on one real broker. About 6 minutes.
# Usage: bench/fresh-metrics.sh [counts=1,1000] [seconds per run=60]. Writes bench/results/fresh-metrics.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -B -Pbench -pl bench -am -DskipTests package
cp="bench/target/classes:bench/target/lib/*"
exec java -Xmx2g -cp "$cp" dev.lagscaler.bench.FreshMetricsBenchmark "$@"

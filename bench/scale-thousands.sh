#!/usr/bin/env bash
# Many Kafka ScaledObjects on one operator process: RSS, heap, threads, connections, Kafka and apiserver requests,
# reconcile latency, time to all Ready. Usage: bench/scale-thousands.sh [objects=3000] [topics=1000]
# [partitions per topic=3] ['operator JVM options'] [settle seconds=60]. Writes bench/results/scale-3000.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -B -Pbench -pl bench -am -DskipTests package
exec java -Xmx1g -Dlagscaler.home="$root" -cp "bench/target/classes:bench/target/lib/*" dev.lagscaler.bench.ScaleThousandsBenchmark "$@"

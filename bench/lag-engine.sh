#!/usr/bin/env bash
# Lag engine benchmark: shared batched engine vs one Admin client per trigger, on a real 3-broker cluster.
# Usage: bench/lag-engine.sh [groups] [total partitions] [brokers] [polls]   (defaults: 1000 30000 3 5)
# Writes bench/results/lag-engine.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -B -Pbench -pl bench -am -DskipTests package
cp="bench/target/classes:bench/target/lib/*"
exec java -Xmx4g -cp "$cp" dev.lagscaler.bench.LagEngineBenchmark "$@"

#!/usr/bin/env bash
# Drain-time scaling vs the lag threshold: traffic profiles replayed through the operator's planning code with a model
# of the HPA and the consumers (no Kafka, no cluster: seconds). Usage: bench/drain-simulator.sh [output dir]
# Writes bench/results/drain-time.md and bench/results/drain-<profile>.png.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -B -Pbench -pl bench -am -DskipTests package
cp="bench/target/classes:bench/target/lib/*"
exec java -cp "$cp" dev.lagscaler.bench.DrainSimulator "${1:-bench/results}"

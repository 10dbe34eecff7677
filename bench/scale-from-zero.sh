#!/usr/bin/env bash
# Scale-from-zero benchmark on the real control plane and broker.
# Usage: bench/scale-from-zero.sh [activations=20] [keda-style activations=5]. Writes bench/results/wake-up.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -B -Pbench -pl bench -am -DskipTests package
exec java -Dlagscaler.home="$root" -cp "bench/target/classes:bench/target/lib/*" dev.lagscaler.bench.ScaleFromZeroBenchmark "$@"

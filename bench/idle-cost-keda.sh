#!/usr/bin/env bash
# What idle Kafka ScaledObjects cost: lagscaler against KEDA built from source (bench/keda-binary.sh), each on a fresh
# local control plane with the same broker and objects. Usage: bench/idle-cost-keda.sh [objects=500] [window seconds=60]
# Writes bench/results/idle-cost-keda.md. Extra JVM options for lagscaler's operator, e.g. a flight recording of where
# its idle CPU goes: BENCH_OPERATOR_JVM_OPTIONS="-XX:StartFlightRecording=filename=/tmp/op.jfr,settings=profile"
# (read it with `jfr print --events jdk.ThreadCPULoad /tmp/op.jfr`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bench/keda-binary.sh > /dev/null
./mvnw -q -B -Pbench -pl bench -am -DskipTests package
exec java -Xmx2g -Dlagscaler.home="$root" -Dbench.operatorJvmOptions="${BENCH_OPERATOR_JVM_OPTIONS:-}" -cp "bench/target/classes:bench/target/lib/*" dev.lagscaler.bench.IdleCostBenchmark "$@"

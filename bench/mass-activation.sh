#!/usr/bin/env bash
# Mass activation: targets at zero all receive records at once; time until each has replicas >= 1 (the operator) and
# >= 2 (the real HPA), lagscaler and then KEDA built from source (bench/keda-binary.sh, if built), each on its own
# control plane. Usage: bench/mass-activation.sh [targets=1000]. Writes bench/results/mass-activation.md and .json.
# BENCH_JAVA_OPTS=-Dbench.keepLogs=true keeps each operator's log (its path is printed).
# BENCH_JAVA_OPTS='-Dbench.operatorJavaOptions="..."' adds JVM options to lagscaler's operator (a JFR recording, for instance).
# BENCH_JAVA_OPTS='-Dbench.controllerManagerFlags="--kube-api-qps=200 --kube-api-burst=300"' runs kube-controller-manager with those flags.
# -Dbench.skip=floor,keda leaves those halves out (to try a change to lagscaler alone).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -B -Pbench -pl bench -am -DskipTests package
# BENCH_JAVA_OPTS split as the shell splits words, quotes honoured (a property whose value has spaces).
eval "java_options=(${BENCH_JAVA_OPTS:-})"
exec java -Xmx2g "${java_options[@]}" -Dlagscaler.home="$root" -cp "bench/target/classes:bench/target/lib/*" dev.lagscaler.bench.MassActivationBenchmark "$@"

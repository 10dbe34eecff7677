#!/usr/bin/env bash
# Kafka ScaledObjects shared out over sharded operator replicas, filtered by each replica and then by the apiserver:
# per replica RSS, heap, bytes received from the apiserver, objects held, reconcile p99; SIGKILL of one replica ->
# every object held again. Usage: bench/sharded-scale.sh [objects=3000] [topics=1000] [replicas=3]
# ['operator JVM options'] [settle seconds=30]. Writes bench/results/sharded-N.md and .json, and each replica's class
# histogram. BENCH_JAVA_OPTS='-Dbench.controllerManagerFlags="--kube-api-qps=200 --kube-api-burst=300"' runs
# kube-controller-manager with those flags (30,000 Deployments' ReplicaSets take 25 minutes at its default rate).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -B -Pbench -pl bench -am -DskipTests package
# BENCH_JAVA_OPTS split as the shell splits words, quotes honoured (a property whose value has spaces).
eval "java_options=(${BENCH_JAVA_OPTS:-})"
exec java -Xmx1g "${java_options[@]}" -Dlagscaler.home="$root" -cp "bench/target/classes:bench/target/lib/*" dev.lagscaler.bench.ShardedScaleBenchmark "$@"

#!/usr/bin/env bash
# What idle targets cost, the wake-up consumer against 1 s polling, in one run: for each count, the same harness
# (bench/scale-thousands.sh: N Kafka ScaledObjects at zero, ceil(N/3) topics x 3 partitions, the operator as its own
# JVM with the chart's options, a 60 s window) once with the wake-up consumer and once with --no-wake-up-consumer,
# back to back. Usage: bench/idle-cost.sh [counts=1,100,1000]. Writes bench/results/idle-cost-N-{wakeup,polling}.md
# and the summary bench/results/idle-cost.md. About 25 minutes with the defaults.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
counts="${1:-1,100,1000}"
jvm="-Xmx288m -XX:+UseSerialGC -XX:MaxMetaspaceSize=128m -XX:ReservedCodeCacheSize=48m -Xss512k -XX:TieredStopAtLevel=1"
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
for n in ${counts//,/ }; do
  topics=$(( (n + 2) / 3 ))
  bench/scale-thousands.sh "$n" "$topics" 3 "$jvm" 60
  bench/scale-thousands.sh "$n" "$topics" 3 "$jvm" 60 --no-wake-up-consumer
done

# One figure of a per-run file: the value column of the row whose name starts with $2.
figure() { awk -F'|' -v name="$2" 'index($2, " " name) == 1 { gsub(/^ +| +$/, "", $3); print $3; exit }' "$1"; }
{
  echo "# What idle targets cost: wake-up consumer against 1 s polling (one run)"
  echo
  echo "\`bench/idle-cost.sh $counts\`, started $started on $(nproc) cores: for each count, \`bench/scale-thousands.sh N"
  echo "ceil(N/3) 3 '<chart JVM options>' 60\` with the wake-up consumer, then with \`--no-wake-up-consumer\`, back to"
  echo "back: N Kafka ScaledObjects whose targets sit at zero (lag 0), one 3-broker cluster, the operator as its own JVM,"
  echo "figures from its /metrics and /proc over a 60 s window. Per-run files: idle-cost-N-wakeup.md, idle-cost-N-polling.md."
  echo
  echo "| idle ScaledObjects | mode | Kafka requests/min (polls) | Kafka requests/min (wake-up consumer) | operator CPU s/min | apiserver requests/min (operator) | RSS |"
  echo "|---|---|---|---|---|---|---|"
  for n in ${counts//,/ }; do
    for mode in wakeup polling; do
      f="bench/results/idle-cost-$n-$mode.md"
      label="wake-up consumer (default)"
      [ "$mode" = polling ] && label="1 s polling only"
      echo "| $n | $label | $(figure "$f" "Kafka requests per minute: polls") | $(figure "$f" "Kafka requests per minute: wake-up") | $(figure "$f" "operator CPU seconds") | $(figure "$f" "apiserver requests per minute") | $(figure "$f" "RSS") |"
    done
  done
  echo
  echo "KEDA built from source on the same machine, and kube-apiserver's CPU: \`idle-cost-keda.md\` (\`bench/idle-cost-keda.sh\`)."
} > bench/results/idle-cost.md
cat bench/results/idle-cost.md

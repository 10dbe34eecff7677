#!/usr/bin/env bash
# Profiles the metrics adapter under the metrics-adapter benchmark's load with JFR (built into the JDK): the adapter
# runs in the benchmark's JVM, the load in its own process. Prints, for the samples whose stack passes through the
# adapter's code, the hottest leaf frames and the hottest adapter frames.
# Usage: bench/profile-metrics-adapter.sh [seconds per row=10] [connections=32]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -B -Pbench -pl bench -am -DskipTests package
out="$(mktemp -d)"
java -XX:StartFlightRecording=filename="$out/adapter.jfr",settings=profile -Dlagscaler.home="$root" \
  -Dbench.results="$out" -cp "bench/target/classes:bench/target/lib/*" dev.lagscaler.bench.AdapterBenchmark "$@" \
  2>/dev/null | grep -E '^\| (adapter|bare|the same)' || true
jfr print --events jdk.ExecutionSample "$out/adapter.jfr" > "$out/samples.txt"
awk '
  /jdk.ExecutionSample/ { if (stack != "") flush(); stack = ""; leaf = ""; ours = ""; next }
  /line:/ { f = $0; sub(/^[ \t]+/, "", f); sub(/[ \t]+line:.*/, "", f); stack = stack f "\n";
            if (leaf == "") leaf = f;
            if (ours == "" && f ~ /^dev\.lagscaler\.adapter\./) ours = f }
  function flush() { total++; if (ours != "") { mine++; leaves[leaf]++; owners[ours]++ } }
  END { if (stack != "") flush();
        printf "samples: %d, through dev.lagscaler.adapter: %d (%.0f%%)\n", total, mine, 100 * mine / (total ? total : 1);
        print "-- hottest leaf frames under the adapter"; for (l in leaves) printf "%6d %s\n", leaves[l], l | "sort -rn | head -20"; close("sort -rn | head -20");
        print "-- hottest adapter frames (innermost)"; for (o in owners) printf "%6d %s\n", owners[o], o | "sort -rn | head -15" }
' "$out/samples.txt"
echo "recording: $out/adapter.jfr"

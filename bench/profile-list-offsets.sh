#!/usr/bin/env bash
# Profiles Admin.listOffsets over many partitions with JFR (built into the JDK) and prints the hottest frames.
# Usage: bench/profile-list-offsets.sh [topics=1000] [partitions per topic=10] [calls=30]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q -B -Pbench -pl bench -am -DskipTests package
out="$(mktemp -d)"
java -Xmx2g -XX:StartFlightRecording=filename="$out/list-offsets.jfr",settings=profile -cp "bench/target/classes:bench/target/lib/*" \
  dev.lagscaler.bench.ListOffsetsProfile "$@" 2>/dev/null | grep listOffsets
jfr print --events jdk.ExecutionSample "$out/list-offsets.jfr" \
  | awk '/stackTrace = \[/{n=0; s=""; next} n<4 && /line:/{sub(/^[ \t]+/, ""); sub(/line:.*/, ""); s=s (n? " <- " : "") $0; n++; if(n==4) print s}' | sort | uniq -c | sort -rn | head -25
echo "recording: $out/list-offsets.jfr"

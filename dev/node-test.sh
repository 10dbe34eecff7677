#!/usr/bin/env bash
# The real-node tests (JUnit tag "node"): the Helm chart installed on a local node with containerd and a kubelet,
# images built from deploy/*.Dockerfile, real consumer pods scaled 0 -> N -> 0. Needs root. The first run builds the
# node's binaries and the images (about 15 minutes on 2 cores); later runs take about 5. Extra Maven arguments pass on.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q install -DskipTests
exec ./mvnw -B test -pl cli -Dgroups=node -DexcludedGroups= -Dsurefire.failIfNoSpecifiedTests=false "$@"

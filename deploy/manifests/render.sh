#!/usr/bin/env bash
# Renders the Helm chart into deploy/manifests/lagscaler.yaml with values.yaml, using a real helm
# (dev/helm-binary.sh builds it once). The tests fail when the committed file and a fresh render differ.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
helm="$("$here/../../dev/helm-binary.sh")"
{
  echo "# Rendered from deploy/helm/lagscaler by deploy/manifests/render.sh with deploy/manifests/values.yaml; do not edit."
  "$helm" template lagscaler "$here/../helm/lagscaler" --namespace lagscaler --include-crds -f "$here/values.yaml"
} > "$here/lagscaler.yaml"
echo "$here/lagscaler.yaml"

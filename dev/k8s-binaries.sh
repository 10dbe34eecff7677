#!/usr/bin/env bash
# Builds (once) and prints the directory holding etcd, kube-apiserver, kube-controller-manager and kubectl.
#
# The binaries are built from their Go modules with the machine's Go toolchain and cached, keyed by version, in
# ${LAGSCALER_CACHE:-~/.cache/lagscaler}/k8s/v<version>/. When KUBEBUILDER_ASSETS points at a directory that
# already holds the binaries (controller-runtime envtest's convention), that directory is used and nothing is built.
#
# stdout carries only the directory; progress goes to stderr.
set -euo pipefail

K8S_VERSION="${LAGSCALER_K8S_VERSION:-1.36.3}"
ETCD_VERSION="${LAGSCALER_ETCD_VERSION:-3.6.16}"
BINARIES=(etcd kube-apiserver kube-controller-manager kubectl)

log() { printf '[k8s-binaries] %s\n' "$*" >&2; }

has_all() {
  local dir="$1"
  for b in "${BINARIES[@]}"; do [ -x "$dir/$b" ] || return 1; done
}

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  if has_all "$KUBEBUILDER_ASSETS"; then
    echo "$KUBEBUILDER_ASSETS"
    exit 0
  fi
  log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks one of: ${BINARIES[*]}; building instead"
fi

cache_root="${LAGSCALER_CACHE:-$HOME/.cache/lagscaler}"
out="$cache_root/k8s/v$K8S_VERSION-etcd$ETCD_VERSION"
if has_all "$out"; then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { log "go is not on PATH; install Go 1.26 or set KUBEBUILDER_ASSETS"; exit 1; }
mkdir -p "$out"
# One build at a time per cache: a second caller waits for the first instead of building twice.
exec 9>"$out/.lock"
flock 9
if has_all "$out"; then echo "$out"; exit 0; fi

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" CGO_ENABLED=0 GOFLAGS=-mod=mod
work="$cache_root/k8s/build"
mkdir -p "$work/kubernetes" "$work/etcd"

minor="${K8S_VERSION#*.}"; minor="${minor%%.*}"
staging="v0.${K8S_VERSION#*.}"

if [ ! -x "$out/kube-apiserver" ] || [ ! -x "$out/kube-controller-manager" ] || [ ! -x "$out/kubectl" ]; then
  log "building kube-apiserver, kube-controller-manager, kubectl v$K8S_VERSION (several minutes on 2 cores)"
  cd "$work/kubernetes"
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local paths, which a
  # dependent module does not inherit: pin each one to its published v0.Y.Z instead.
  go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" > download.json
  gomod=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' download.json)
  godebug=$(grep -m1 '^godebug' "$gomod" || true)
  goline=$(grep -m1 '^go ' "$gomod")
  {
    echo "module lagscaler.local/k8sbuild"
    echo "$goline"
    [ -n "$godebug" ] && echo "$godebug"
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo "replace ("
    grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" | awk -v v="$staging" '{print "\t" $1 " => " $1 " " v}'
    echo ")"
  } > go.mod
  cat > tools.go <<'GO'
package main
GO
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  log "resolving modules"
  go get "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" "k8s.io/kubernetes/cmd/kube-controller-manager@v$K8S_VERSION" "k8s.io/kubernetes/cmd/kubectl@v$K8S_VERSION" >&2
  log "compiling"
  go build -trimpath -tags selinux,notest -ldflags "$ldflags" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl >&2
fi

if [ ! -x "$out/etcd" ]; then
  log "building etcd v$ETCD_VERSION"
  cd "$work/etcd"
  {
    echo "module lagscaler.local/etcdbuild"
    echo "go 1.26.0"
    echo "require go.etcd.io/etcd/server/v3 v$ETCD_VERSION"
  } > go.mod
  echo "package main" > tools.go
  go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2
  go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3 >&2
fi

has_all "$out" || { log "build finished but a binary is missing in $out"; exit 1; }
log "binaries ready in $out"
echo "$out"

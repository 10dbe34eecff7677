#!/usr/bin/env bash
# Builds (once) and prints the directory holding what a real node needs beside the control plane's binaries:
# kubelet, kube-proxy and kube-scheduler from the same Kubernetes module version as dev/k8s-binaries.sh, and a CoreDNS
# with only the plugins a cluster DNS needs, from the Go module proxy. Installs (once) the node's Debian packages:
# containerd, runc, the CNI plugins, iptables and conntrack.
#
# Cached like the other binaries, in ${LAGSCALER_CACHE:-~/.cache/lagscaler}/k8s/v<version>/node/.
# stdout carries only the directory; progress goes to stderr. Exits 3 with the reason where this machine cannot
# run a node (not root, no way to install the packages).
set -euo pipefail

K8S_VERSION="${LAGSCALER_K8S_VERSION:-1.36.3}"
ETCD_VERSION="${LAGSCALER_ETCD_VERSION:-3.6.16}"
COREDNS_VERSION="${LAGSCALER_COREDNS_VERSION:-1.15.0}"
BINARIES=(kubelet kube-proxy kube-scheduler coredns pause pause.tar coredns.tar)
PACKAGES=(containerd runc containernetworking-plugins iptables conntrack buildah)

log() { printf '[node-binaries] %s\n' "$*" >&2; }
cannot() { log "this machine cannot run a node: $*"; exit 3; }

[ "$(id -u)" = 0 ] || cannot "a kubelet and containerd run as root; this is uid $(id -u)"

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || cannot "no apt-get to install ${missing[*]}"
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq >&2 || cannot "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || cannot "apt-get install ${missing[*]} failed"
  # The package starts containerd as a service where systemd runs; the node starts its own, with its own config.
  systemctl stop containerd >/dev/null 2>&1 || true
fi

cache_root="${LAGSCALER_CACHE:-$HOME/.cache/lagscaler}"
out="$cache_root/k8s/v$K8S_VERSION-etcd$ETCD_VERSION/node"
has_all() { for b in "${BINARIES[@]}"; do [ -s "$out/$b" ] || return 1; done; }
if has_all; then echo "$out"; exit 0; fi

command -v go >/dev/null || { log "go is not on PATH; install Go 1.26"; exit 1; }
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if has_all; then echo "$out"; exit 0; fi

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" CGO_ENABLED=0 GOFLAGS=-mod=mod
work="$cache_root/k8s/build"

if [ ! -x "$out/kubelet" ] || [ ! -x "$out/kube-proxy" ] || [ ! -x "$out/kube-scheduler" ]; then
  # The control plane's build module (go.mod pinned by dev/k8s-binaries.sh) builds these too.
  [ -f "$work/kubernetes/go.mod" ] || bash "$(dirname "$0")/k8s-binaries.sh" >/dev/null
  cd "$work/kubernetes"
  minor="${K8S_VERSION#*.}"; minor="${minor%%.*}"
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  log "building kubelet, kube-proxy, kube-scheduler v$K8S_VERSION"
  go get "k8s.io/kubernetes/cmd/kubelet@v$K8S_VERSION" "k8s.io/kubernetes/cmd/kube-proxy@v$K8S_VERSION" \
    "k8s.io/kubernetes/cmd/kube-scheduler@v$K8S_VERSION" >&2
  go build -trimpath -tags selinux,notest -ldflags "$ldflags" -o "$out/" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kube-scheduler >&2
fi

if [ ! -x "$out/coredns" ]; then
  # CoreDNS with the plugins of a cluster's default Corefile only (the full build pulls every cloud SDK).
  log "building coredns v$COREDNS_VERSION (cluster plugins only)"
  mkdir -p "$work/coredns"
  cd "$work/coredns"
  printf 'module lagscaler.local/corednsbuild\n\ngo 1.26.0\n\nrequire github.com/coredns/coredns v%s\n' \
    "$COREDNS_VERSION" > go.mod
  cat > main.go <<'GO'
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	"github.com/coredns/coredns/coremain"
)

// The order in which the plugins see a query, as in CoreDNS's plugin.cfg.
var directives = []string{"ready", "health", "errors", "log", "cache", "loop", "kubernetes"}

func init() { dnsserver.Directives = directives }

func main() { coremain.Run() }
GO
  go get "github.com/coredns/coredns@v$COREDNS_VERSION" >&2
  go mod tidy >&2
  go build -trimpath -ldflags "-s -w" -o "$out/coredns" . >&2
fi

if [ ! -x "$out/pause" ]; then
  # The pod sandbox's process: sleeps until told to stop, reaping any child handed to it.
  log "building pause"
  mkdir -p "$work/pause"
  cd "$work/pause"
  printf 'module lagscaler.local/pause\n\ngo 1.26.0\n' > go.mod
  cat > main.go <<'GO'
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	children := make(chan os.Signal, 1)
	signal.Notify(children, syscall.SIGCHLD)
	for {
		select {
		case <-stop:
			os.Exit(0)
		case <-children:
			for {
				var status syscall.WaitStatus
				if pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil); pid <= 0 || err != nil {
					break
				}
			}
		}
	}
}
GO
  go build -trimpath -ldflags "-s -w" -o "$out/pause" . >&2
fi

# Both as images from scratch (no registry is reachable), for the node's containerd to import.
image_of() {
  local binary="$1" name="$2" container
  [ -s "$out/$binary.tar" ] && return
  container="$(buildah from scratch)"
  buildah copy -q "$container" "$out/$binary" "/$binary" >/dev/null
  buildah config --entrypoint "[\"/$binary\"]" "$container"
  buildah commit --rm -q "$container" "$name" >/dev/null
  buildah push -q "$name" "docker-archive:$out/$binary.tar.new:$name" >/dev/null
  mv "$out/$binary.tar.new" "$out/$binary.tar"
}
image_of pause localhost/lagscaler/pause:1
image_of coredns localhost/lagscaler/coredns:1

has_all || { log "build finished but a binary is missing in $out"; exit 1; }
log "node binaries ready in $out"
echo "$out"

#!/usr/bin/env bash
# Builds lagscaler's images from deploy/*.Dockerfile without a Docker engine, and prints the directory holding them
# as docker-archive tarballs (what a node's `ctr images import` loads):
#   operator.tar  docker.io/lagscaler/operator:0.1.0
#   adapter.tar   docker.io/lagscaler/metrics-adapter:0.1.0
#   consumer.tar  docker.io/lagscaler/demo-consumer:0.1.0
#
# No image registry is reachable here, so the Dockerfiles' bases (build arguments BUILD_IMAGE and RUNTIME_IMAGE,
# eclipse-temurin by default) are made locally: a Debian bookworm rootfs from debootstrap with Debian's JRE 17
# (runtime) or JDK 17 (build), imported into buildah's storage. Elsewhere, run the Dockerfiles as they are.
# Each image's build stage runs the repo's ./mvnw with ~/.m2 mounted, so nothing is downloaded twice.
#
# Cached in ${LAGSCALER_CACHE:-~/.cache/lagscaler}/images/; buildah's layer cache rebuilds only what changed.
# Progress and each image's size go to stderr (and sizes.txt beside the tarballs); stdout carries only the directory.
# Exits 3 with the reason where this machine cannot build images.
set -euo pipefail

VERSION=0.1.0
log() { printf '[images] %s\n' "$*" >&2; }
cannot() { log "cannot build images here: $*"; exit 3; }

repo="$(cd "$(dirname "$0")/.." && pwd)"
cache_root="${LAGSCALER_CACHE:-$HOME/.cache/lagscaler}"
out="$cache_root/images"
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9

[ "$(id -u)" = 0 ] || cannot "buildah and debootstrap run as root here; this is uid $(id -u)"
need=()
for p in buildah debootstrap; do command -v "$p" >/dev/null || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  apt-get update -qq >&2 || cannot "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 \
    || cannot "apt-get install ${need[*]} failed"
fi

mirror="${LAGSCALER_DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)}"
mirror="${mirror:-http://deb.debian.org/debian}"

# One base rootfs a flavour, made once: Debian bookworm minbase with Debian's OpenJDK 17 (the JRE for the runtime
# stage, the JDK for the build stage), documentation and apt lists removed.
rootfs() {
  local flavour="$1" package="$2" dir="$out/rootfs-$1"
  if [ -f "$dir/.done" ]; then echo "$dir"; return; fi
  rm -rf "$dir"
  log "debootstrap bookworm with $package (about two minutes)"
  debootstrap --variant=minbase --include="$package,ca-certificates" bookworm "$dir" "$mirror" >"$out/debootstrap-$flavour.log" 2>&1 \
    || cannot "debootstrap failed (log: $out/debootstrap-$flavour.log): $(tail -3 "$out/debootstrap-$flavour.log")"
  rm -rf "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin \
    "$dir"/var/cache/apt/archives/*.deb "$dir"/var/log/*
  touch "$dir/.done"
  echo "$dir"
}

# The rootfs as an image in buildah's storage, named localhost/lagscaler-base/debian-<flavour>:17.
base_image() {
  local flavour="$1" package="$2" name="localhost/lagscaler-base/debian-$1:17"
  if buildah inspect --type image "$name" >/dev/null 2>&1; then echo "$name"; return; fi
  local dir container mount
  dir="$(rootfs "$flavour" "$package")"
  container="$(buildah from scratch)"
  mount="$(buildah mount "$container")"
  cp -a "$dir/." "$mount/"
  rm -f "$mount/.done"
  buildah umount "$container" >/dev/null
  buildah config --env LANG=C.UTF-8 --env JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
    --label org.opencontainers.image.description="Debian bookworm minbase with Debian's $package" "$container"
  buildah commit --rm -q "$container" "$name" >/dev/null
  log "base image $name: $(buildah images --format '{{.Size}}' "$name")"
  echo "$name"
}

runtime_base="${RUNTIME_IMAGE:-$(base_image jre openjdk-17-jre-headless)}"
build_base="${BUILD_IMAGE:-$(base_image jdk openjdk-17-jdk-headless)}"

[ -x "$repo/mvnw" ] && [ -d "$HOME/.m2" ] || cannot "run ./mvnw once on the host first: the build stages reuse ~/.m2"
: > "$out/sizes.txt.new"
for spec in operator:lagscaler/operator adapter:lagscaler/metrics-adapter consumer:lagscaler/demo-consumer; do
  file="${spec%%:*}"
  name="docker.io/${spec#*:}:$VERSION"
  log "building $name from deploy/$file.Dockerfile"
  # runc: crun, where installed, refuses the hybrid cgroup layout some machines (this one) have.
  buildah bud --runtime runc --layers --network host --volume "$HOME/.m2:/root/.m2" \
    --build-arg BUILD_IMAGE="$build_base" --build-arg RUNTIME_IMAGE="$runtime_base" \
    -f "$repo/deploy/$file.Dockerfile" -t "$name" "$repo" >"$out/build-$file.log" 2>&1 \
    || { log "buildah bud failed (log: $out/build-$file.log):"; tail -20 "$out/build-$file.log" >&2; exit 1; }
  id="$(buildah images --format '{{.ID}}' "$name" | head -1)"
  if [ ! -f "$out/$file.tar" ] || [ "$(cat "$out/$file.id" 2>/dev/null)" != "$id" ]; then
    rm -f "$out/$file.tar"
    buildah push -q "$name" "docker-archive:$out/$file.tar:$name" >/dev/null
    echo "$id" > "$out/$file.id"
  fi
  size="$(buildah images --format '{{.Size}}' "$name" | head -1)"
  container="$(buildah from -q "$name")"
  app="$(du -sh "$(buildah mount "$container")/app" | cut -f1)"
  buildah rm "$container" >/dev/null
  printf '%s\t%s\t%s\tapp=%s\tbase=%s\n' "$name" "$size" "$file.tar" "$app" "$runtime_base" >> "$out/sizes.txt.new"
  log "$name: $size (/app $app) on $runtime_base"
done
mv "$out/sizes.txt.new" "$out/sizes.txt"
echo "$out"

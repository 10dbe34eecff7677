#!/usr/bin/env bash
# Prints the directory holding prometheus and promtool, from Debian's `prometheus` package (2.42 on bookworm),
# unpacked once (no install, no service started) and cached in ${LAGSCALER_CACHE:-~/.cache/lagscaler}/prometheus/.
# PROMETHEUS_DIR, when it holds both binaries, is used instead; so are binaries already on PATH.
# stdout carries only the directory; progress goes to stderr.
set -euo pipefail
log() { printf '[prometheus-binary] %s\n' "$*" >&2; }
has_both() { [ -x "$1/prometheus" ] && [ -x "$1/promtool" ]; }

if [ -n "${PROMETHEUS_DIR:-}" ] && has_both "$PROMETHEUS_DIR"; then echo "$PROMETHEUS_DIR"; exit 0; fi
if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  dirname "$(command -v prometheus)"; exit 0
fi
out="${LAGSCALER_CACHE:-$HOME/.cache/lagscaler}/prometheus/debian"
if has_both "$out"; then echo "$out"; exit 0; fi
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if has_both "$out"; then echo "$out"; exit 0; fi

command -v apt-get >/dev/null || { log "no apt-get here: set PROMETHEUS_DIR to a folder with prometheus and promtool"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download prometheus >&2 2>/dev/null; then
  log "refreshing the package lists (apt-get update)"
  apt-get update -qq >&2
  apt-get download prometheus >&2
fi
dpkg-deb -x prometheus_*.deb root
cp root/usr/bin/prometheus root/usr/bin/promtool "$out/"
log "unpacked $(ls prometheus_*.deb) into $out"
echo "$out"

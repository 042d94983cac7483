#!/usr/bin/env bash
# Builds bench/gopeer offline: GOPATH mode, minio-go v7 and its dependencies from Debian's /usr/share/gocode
# (golang-github-minio-minio-go-v7-dev), no module download, no network.
set -euo pipefail
out=${1:?output directory}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out/gopath" "$out/cache"
out=$(cd "$out" && pwd)
cd "$here/bench/gopeer"
env GO111MODULE=off GOFLAGS= GOPROXY=off GOSUMDB=off GOTOOLCHAIN=local CGO_ENABLED=0 \
  GOPATH="$out/gopath:/usr/share/gocode" GOCACHE="$out/cache" \
  go build -o "$out/gopeer" .

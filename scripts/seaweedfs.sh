#!/usr/bin/env bash
# Starts or stops a SeaweedFS 4.48 S3 server for tests. It checks signatures (the identities file below).
#   scripts/seaweedfs.sh start DIR PORT   -> prints the endpoint once the S3 port is served by our weed process
#   scripts/seaweedfs.sh stop DIR
# Exits non-zero with a message when the server cannot start: tests that need it fail, they do not skip.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
weed=${WEED:-$here/.cache/venv/bin/weed}
access=AKIDPRESIGNTEST
secret=presign-test-secret-0123456789abcdef

start() {
  local dir=$1 port=$2
  [ -x "$weed" ] || { echo "seaweedfs: $weed not found (run make deps)" >&2; exit 1; }
  mkdir -p "$dir/data"
  cat >"$dir/s3.json" <<JSON
{"identities":[{"name":"test","credentials":[{"accessKey":"$access","secretKey":"$secret"}],"actions":["Admin","Read","List","Tagging","Write"]}]}
JSON
  "$weed" -logdir="$dir" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.port="$port" \
    -s3.config="$dir/s3.json" -s3.autoCreateBucket=false -s3.allowDeleteBucketNotEmpty=false \
    -master.telemetry=false -webdav=false -admin.ui=false -s3.port.iceberg=0 -s3.port.lance=0 \
    >"$dir/weed.out" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/weed.pid"
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "seaweedfs: weed exited early; last output:" >&2
      tail -n 20 "$dir/weed.out" >&2
      exit 1
    fi
    # The port must be listened on by our own process: weed silently moves a busy port elsewhere.
    if ss -ltnpH "sport = :$port" 2>/dev/null | grep -q "pid=$pid,"; then
      if curl -s -o /dev/null -m 2 "http://127.0.0.1:$port/"; then
        echo "http://127.0.0.1:$port"
        return 0
      fi
    fi
    sleep 0.1
  done
  echo "seaweedfs: S3 port $port not served by weed (pid $pid) after 30 s" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
}

stop() {
  local dir=$1
  [ -f "$dir/weed.pid" ] || return 0
  local pid
  pid=$(cat "$dir/weed.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/weed.pid"
}

case "${1:-}" in
  start) start "${2:?dir}" "${3:?port}" ;;
  stop) stop "${2:?dir}" ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# make test-schema: schemathesis (all checks) against a live presignd serving openapi.yaml with a test config.
#   scripts/schema_check.sh PRESIGND_BINARY
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?presignd binary}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
SCHEMA_S3_ACCESS=AKIDSCHEMA SCHEMA_S3_SECRET=schema-secret-0123456789 \
  "$bin" serve --config "$here/Tests/integration/schemathesis-config.yaml" --listen "127.0.0.1:$port" \
  --workers 1 --admin-listen off >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
  kill -0 $pid 2>/dev/null || { echo "presignd exited:"; cat "$log"; exit 1; }
  sleep 0.1
done
cd "$here"
"$here/.cache/venv/bin/st" run openapi.yaml --url "http://127.0.0.1:$port" \
  -H 'Authorization: Bearer schema-key' --checks all --seed "${SCHEMA_SEED:-20261126}"

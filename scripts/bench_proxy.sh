#!/usr/bin/env bash
# make bench-proxy: download throughput of a 512 MiB object through the admin proxy vs a direct curl of the same
# object from SeaweedFS (a presigned URL), in the same run; prints MiB/s for both and the ratio.
#   scripts/bench_proxy.sh PRESIGND_BINARY
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?presignd binary}
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
endpoint=$("$here/scripts/seaweedfs.sh" start "$dir/weed" "$port")
export S3_ACCESS_KEY=AKIDPRESIGNTEST S3_SECRET_KEY=presign-test-secret-0123456789abcdef
cat >"$dir/c.yaml" <<YAML
access_log: false
audit_log: false
backends:
  main: {endpoint: "$endpoint", dialect: aws-v4, region: us-east-1, addressing: path, access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
callers: [{name: none, auth: {api_key_sha256: "$(printf none | sha256sum | cut -d' ' -f1)"}, rules: [{operations: [get], bucket: x, max_expires_in: 60}]}]
admin: {token_sha256: ["$(printf bench-admin | sha256sum | cut -d' ' -f1)"]}
YAML
"$bin" serve --config "$dir/c.yaml" --listen 127.0.0.1:18095 --admin-listen 127.0.0.1:19095 --workers 1 >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; "$here/scripts/seaweedfs.sh" stop "$dir/weed"; rm -rf "$dir"' EXIT
sleep 1
auth='Authorization: Bearer bench-admin'
curl -sf -X PUT -H "$auth" http://127.0.0.1:19095/admin/v1/buckets/bench >/dev/null
head -c $((512 << 20)) /dev/urandom >"$dir/obj"
curl -sf -X PUT -H "$auth" -T "$dir/obj" http://127.0.0.1:19095/admin/v1/buckets/bench/objects/obj >/dev/null
direct_url=$("$bin" sign --endpoint "$endpoint" --bucket bench --key obj --method GET --expires 600)
best() { for _ in 1 2 3; do curl -s -o /dev/null -w '%{speed_download}\n' "$@"; done | sort -n | tail -1; }
direct=$(best "$direct_url")
proxy=$(best -H "$auth" http://127.0.0.1:19095/admin/v1/buckets/bench/objects/obj)
python3 - "$direct" "$proxy" <<'PY'
import sys
d, p = float(sys.argv[1]), float(sys.argv[2])
print(f"direct from SeaweedFS: {d / 2**20:.0f} MiB/s")
print(f"through the admin proxy: {p / 2**20:.0f} MiB/s")
print(f"ratio proxy/direct: {p / d:.2f}")
PY

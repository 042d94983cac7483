#!/usr/bin/env bash
# make bench: wrk -t1 -c50 -d10s against presignd (--workers 1, core 0) and nginx (one worker, core 0), wrk on core 1.
set -euo pipefail
bin=${1:?presignd binary}
here=$(cd "$(dirname "$0")/.." && pwd)
run_wrk() { taskset -c 1 wrk -t1 -c50 -d10s --latency "$@" ; }
rps() { awk '/Requests\/sec/ {print $2}'; }

rm -f /tmp/presignd-bench-links.sqlite /tmp/presignd-bench-links.sqlite-wal /tmp/presignd-bench-links.sqlite-shm
BENCH_S3_ACCESS=AKIDBENCH BENCH_S3_SECRET=bench-secret-0123456789 taskset -c 0 "$bin" serve \
  --config "$here/deploy/bench/presignd-bench.yaml" --workers 1 --access-log off --admin-listen off >/dev/null &
p=$!
taskset -c 0 nginx -c "$here/deploy/bench/nginx.conf" -p /tmp &
n=$!
trap 'kill $p $n 2>/dev/null || true' EXIT
sleep 1
echo "RSS presignd idle: $(( $(awk '/VmRSS/ {print $2}' /proc/$p/status) / 1024 )) MiB"
ours=$(run_wrk http://127.0.0.1:18090/healthz | tee /tmp/presignd-bench-ours.txt)
theirs=$(run_wrk http://127.0.0.1:18091/healthz | tee /tmp/presignd-bench-nginx.txt)
o=$(echo "$ours" | rps); t=$(echo "$theirs" | rps)
echo "presignd: $o req/s  p99 $(echo "$ours" | awk '/ 99%/ {print $2}')"
echo "nginx:    $t req/s  p99 $(echo "$theirs" | awk '/ 99%/ {print $2}')"
python3 -c "print(f'ratio presignd/nginx: {float(\"$o\")/float(\"$t\"):.2f}')"

echo "--- POST /v1/presign (API key, policy check, SigV4 PUT URL) vs nginx returning a same-size static body"
ours=$(run_wrk -s "$here/deploy/bench/presign.lua" http://127.0.0.1:18090/v1/presign | tee /tmp/presignd-bench-presign.txt)
theirs=$(run_wrk -s "$here/deploy/bench/presign.lua" http://127.0.0.1:18091/v1/presign | tee /tmp/presignd-bench-nginx-presign.txt)
grep -q '"signature_version":"v4"' <(curl -s -H 'Authorization: Bearer bench-key' -H 'Content-Type: application/json' \
  --data '{"operation":"put","bucket":"uploads","key":"users/42/photo.png","expires_in":600,"content_type":"image/png"}' \
  http://127.0.0.1:18090/v1/presign) || { echo "presign bench: presignd did not sign" >&2; exit 1; }
o=$(echo "$ours" | rps); t=$(echo "$theirs" | rps)
echo "presignd presign: $o req/s  p99 $(echo "$ours" | awk '/ 99%/ {print $2}')  non-2xx: $(echo "$ours" | awk '/Non-2xx/ {print $5}')"
echo "nginx static:     $t req/s  p99 $(echo "$theirs" | awk '/ 99%/ {print $2}')"
python3 -c "print(f'ratio presign/nginx: {float(\"$o\")/float(\"$t\"):.2f}')"

echo "--- GET /l/{id} (share link: SQLite lookup, use counted in a write, policy, SigV4 GET, 302) vs nginx returning a same-size 302"
link=$(curl -s -H 'Authorization: Bearer bench-key' -H 'Content-Type: application/json' \
  --data '{"bucket":"uploads","key":"users/42/photo.png"}' http://127.0.0.1:18090/v1/links \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || { echo "link bench: presignd made no link" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:18090/l/$link")" = 302 ] || { echo "link bench: no redirect" >&2; exit 1; }
ours=$(run_wrk "http://127.0.0.1:18090/l/$link" | tee /tmp/presignd-bench-link.txt)
theirs=$(run_wrk "http://127.0.0.1:18091/l/$link" | tee /tmp/presignd-bench-nginx-link.txt)
o=$(echo "$ours" | rps); t=$(echo "$theirs" | rps)
echo "presignd link: $o req/s  p99 $(echo "$ours" | awk '/ 99%/ {print $2}')"
echo "nginx 302:     $t req/s  p99 $(echo "$theirs" | awk '/ 99%/ {print $2}')"
python3 -c "print(f'ratio link/nginx: {float(\"$o\")/float(\"$t\"):.2f}')"
uses=$(curl -s -H 'Authorization: Bearer bench-key' "http://127.0.0.1:18090/v1/links/$link" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uses"])')
echo "link uses counted: $uses (wrk's requests, plus 1 check)"
python3 "$here/scripts/idle_connections.py" 127.0.0.1 18090 10000 "$p"

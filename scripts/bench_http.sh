#!/usr/bin/env bash
# make bench: wrk -t1 -c50 -d10s against presignd (--workers 1, core 0) and nginx (one worker, core 0), wrk on core 1.
set -euo pipefail
bin=${1:?presignd binary}
here=$(cd "$(dirname "$0")/.." && pwd)
run_wrk() { taskset -c 1 wrk -t1 -c50 -d10s --latency "$1" ; }
rps() { awk '/Requests\/sec/ {print $2}'; }

taskset -c 0 "$bin" serve --listen 127.0.0.1:18090 --workers 1 --access-log off >/dev/null &
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
python3 "$here/scripts/idle_connections.py" 127.0.0.1 18090 10000 "$p"

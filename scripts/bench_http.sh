#!/usr/bin/env bash
# make bench: wrk -t1 -c50 -d10s (wrk on core 1) against presignd (--workers 1, core 0) and, in the same run on the
# same core, its references: nginx (one worker, deploy/bench/nginx.conf) and bench/gopeer (Go net/http with
# minio-go v7's PresignedGetObject, GOMAXPROCS=1; no auth, policy or audit). Each pair runs twice, presignd first;
# the table at the end has one row per run: ratio = presignd req/s / reference req/s, against the issue's target.
set -euo pipefail
bin=${1:?presignd binary}
peer=${2:?gopeer binary (scripts/build_gopeer.sh)}
here=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_S3_ACCESS=AKIDBENCH BENCH_S3_SECRET=bench-secret-0123456789
ours_url=http://127.0.0.1:18090 nginx_url=http://127.0.0.1:18091 peer_url=http://127.0.0.1:18092
presign_body='{"operation":"get","bucket":"uploads","key":"users/42/photo.png","expires_in":600}'
run_wrk() { taskset -c 1 wrk -t1 -c50 -d10s --latency "$@" ; }
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '/ 99%/ {print $2}' "$1"; }
non2xx() { awk '/Non-2xx/ {n=$5} END {print n+0}' "$1"; }
socket_errors() { awk '/Socket errors/ {sub(/^ *Socket errors: /, ""); print}' "$1"; }
presign() { curl -s -H 'Authorization: Bearer bench-key' -H 'Content-Type: application/json' --data "$presign_body" "$1/v1/presign"; }
die() { echo "bench: $*" >&2; exit 1; }

# A leftover listener would be measured in place of the server started here: refuse to run beside one.
busy=$(ss -Hltn '( sport = :18090 or sport = :18091 or sport = :18092 )')
[ -z "$busy" ] || die "a port of 18090-18092 is already in use: $busy"
rm -f /tmp/presignd-bench-links.sqlite /tmp/presignd-bench-links.sqlite-wal /tmp/presignd-bench-links.sqlite-shm
taskset -c 0 "$bin" serve --config "$here/deploy/bench/presignd-bench.yaml" --workers 1 --access-log off \
  --admin-listen off >/dev/null &
p=$!
taskset -c 0 nginx -c "$here/deploy/bench/nginx.conf" -p /tmp &
n=$!
GOMAXPROCS=1 taskset -c 0 "$peer" -listen 127.0.0.1:18092 &
g=$!
trap 'kill $p $n $g 2>/dev/null || true' EXIT
for url in $ours_url $nginx_url $peer_url; do
  for _ in $(seq 50); do curl -sf -o /dev/null "$url/healthz" && break; sleep 0.1; done
  curl -sf -o /dev/null "$url/healthz" || die "$url/healthz does not answer"
done
kill -0 $p $n $g || die "a server exited at start"
for pid in $p $n $g; do
  [ "$(awk '/Cpus_allowed_list/ {print $2}' /proc/$pid/status)" = 0 ] || die "server $pid is not pinned to core 0"
done
echo "RSS presignd idle: $(( $(awk '/VmRSS/ {print $2}' /proc/$p/status) / 1024 )) MiB"

# The references answer what presignd answers: nginx's static presign body has the size of presignd's, and the
# peer's body is byte-identical to presignd's when both sign within the same second (same key, same canonical request).
ours_body=$(presign $ours_url)
grep -q '"signature_version":"v4"' <<<"$ours_body" || die "presignd did not sign: $ours_body"
[ ${#ours_body} = "$(presign $nginx_url | wc -c)" ] || die "nginx's static presign body is not the size of presignd's"
same=no
for _ in 1 2 3 4 5; do
  a=$(presign $ours_url); b=$(presign $peer_url)
  [ "$a" = "$b" ] && { same=yes; break; }
done
[ $same = yes ] || die "the peer's answer differs from presignd's: $b"
echo "gopeer's presign answer is byte-identical to presignd's (${#a} bytes, same SigV4 signature)"

link=$(curl -s -H 'Authorization: Bearer bench-key' -H 'Content-Type: application/json' \
  --data '{"bucket":"uploads","key":"users/42/photo.png"}' $ours_url/v1/links \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || die "presignd made no link"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$ours_url/l/$link")" = 302 ] || die "the link does not redirect"

rows=() bad=0
# pair ROUTE REFERENCE REF_URL PATH TARGET [wrk args]: presignd then the reference, twice.
pair() {
  local route=$1 ref=$2 ref_url=$3 path=$4 target=$5; shift 5
  local slug run o t f
  slug=$(tr 'A-Z' 'a-z' <<<"$route-$ref" | tr -cs 'a-z0-9\n' -)
  for run in 1 2; do
    o=/tmp/presignd-bench-$slug-$run-presignd.txt t=/tmp/presignd-bench-$slug-$run-$ref.txt
    run_wrk "$@" "$ours_url$path" >"$o"
    run_wrk "$@" "$ref_url$path" >"$t"
    for f in "$o" "$t"; do
      [ "$(non2xx "$f")" = 0 ] || { echo "bench: $f has $(non2xx "$f") non-2xx/3xx answers" >&2; bad=1; }
    done
    echo "$route, run $run: presignd $(rps "$o") req/s p99 $(p99 "$o")$(socket_errors "$o" | sed 's/^./ (socket errors: &/;s/.$/&)/');" \
      "$ref $(rps "$t") req/s p99 $(p99 "$t")$(socket_errors "$t" | sed 's/^./ (socket errors: &/;s/.$/&)/')"
    rows+=("$route|$run|$(rps "$o")|$ref|$(rps "$t")|$target")
  done
}
pair "GET /healthz" nginx $nginx_url /healthz 0.9
pair "POST /v1/presign (GET URL)" nginx $nginx_url /v1/presign 0.5 -s "$here/deploy/bench/presign.lua"
pair "POST /v1/presign (GET URL)" gopeer $peer_url /v1/presign 2.0 -s "$here/deploy/bench/presign.lua"
pair "GET /l/{id} (302)" nginx $nginx_url "/l/$link" 0.3
uses=$(curl -s -H 'Authorization: Bearer bench-key' "$ours_url/v1/links/$link" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uses"])')
echo "link uses counted: $uses (the two presignd link runs' requests, plus 1 check)"
python3 "$here/scripts/idle_connections.py" 127.0.0.1 18090 10000 "$p"

echo
echo "presignd: API key, policy and SigV4 on presign and the link, audit and access logs off; nginx: static answers;"
echo "gopeer: JSON decode, minio-go PresignedGetObject, JSON reply (no auth, no policy, no audit). ratio = presignd / reference."
printf '%-28s %3s %14s  %-7s %14s %7s %7s  %s\n' route run "presignd req/s" ref "ref req/s" ratio target result
for row in "${rows[@]}"; do
  IFS='|' read -r route run o ref t target <<<"$row"
  awk -v route="$route" -v run="$run" -v o="$o" -v ref="$ref" -v t="$t" -v target="$target" 'BEGIN {
    r = o / t; printf "%-28s %3s %14.0f  %-7s %14.0f %7.2f %7s  %s\n", route, run, o, ref, t, r, ">= " target, (r >= target ? "met" : "missed") }'
done
[ $bad = 0 ] || die "some answers were not 2xx/3xx (see above): the figures measured errors"

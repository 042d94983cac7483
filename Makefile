# presignd — make run / make test install what is missing on a fresh Debian machine, then build and run.
SHELL := /bin/bash
VENV := .cache/venv
PY := $(VENV)/bin/python
APT_PACKAGES := libuv1-dev libhttp-parser-dev libcurl4-openssl-dev curl iproute2 wrk nginx
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT_BUILD_FLAGS ?=

.PHONY: deps apt venv build release test test-unit test-integration bench bench-sign run clean

run: build
	@echo "presignd: serving on http://127.0.0.1:8080 (try: curl http://127.0.0.1:8080/healthz)"
	$$(swift build $(SWIFT_BUILD_FLAGS) --show-bin-path)/presignd serve --listen 127.0.0.1:8080

deps: apt venv

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
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
	swift build -c release

test: build test-unit test-integration

test-unit:
	swift test $(SWIFT_BUILD_FLAGS)

test-integration: build
	PRESIGND_BIN=$$(swift build $(SWIFT_BUILD_FLAGS) --show-bin-path)/presignd $(PY) -m pytest -q Tests/integration

bench: release
	ulimit -n 65536; scripts/bench_http.sh .build/release/presignd

bench-sign: release venv
	$(PY) scripts/bench_sign.py .build/release/presignd

clean:
	rm -rf .build .cache

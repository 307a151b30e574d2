# otel-distro developer entry points. `make test` and `make demo` bootstrap
# everything they need from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The oldest supported Python, for a second unit-test run (skipped when not installed).
PY310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10.*/bin/python3.10 /usr/bin/python3.10; do "$$p" --version >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
VENV310 := .venv310
# Contrib instrumentations installed next to the distro on purpose, without their
# dependencies (their semantic-conventions pin may trail the SDK's): the tests prove the
# distro's aio-pika tracing still gives one span per publish/delivery with the contrib's
# entry point present, and that the contrib structlog instrumentation, loaded or called by
# the app, never adds a second or unredacted copy of a record.
# The contrib Starlette instrumentation (0.66b1, the latest) is what the lean server
# middleware's parity tests compare with.
SIDE_BY_SIDE := opentelemetry-instrumentation-aio-pika==0.66b1 \
	opentelemetry-instrumentation-structlog==0.66b1 \
	opentelemetry-instrumentation-starlette==0.66b1

.PHONY: venv test test-py310 unit integration lint typecheck demo screenshot stack stack-build stack-down stack-status bench clean peer-suites

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,grpc,sentry]'
	$(PY) -m pip install -q --no-deps $(SIDE_BY_SIDE)
	touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check otel_distro tests examples benchmarks peer_suites
	$(VENV)/bin/ruff format --check otel_distro

typecheck: venv
	$(VENV)/bin/mypy otel_distro

unit: venv
	$(PY) -m pytest -q -rfEs -m "not integration"

integration: venv stack-build
	$(PY) -m pytest -q -rfEs -m integration

test: venv stack-build
	$(MAKE) --no-print-directory lint typecheck
	$(PY) -m pytest -q -rfEs
	$(MAKE) --no-print-directory peer-suites
	$(MAKE) --no-print-directory test-py310

# structlog's, Starlette's and httpx's own test suites, with and without the distro:
# the same tests pass, except those listed in peer_suites/expected-differences.txt
# (see docs/peer-suites.md).  Builds .peer/ (a venv and the sdists) on first use.
peer-suites: venv
	$(PY) -m peer_suites

# Unit tests on Python 3.10 (the lower bound); integration tests run once, above.
test-py310:
	@if [ -z "$(PY310)" ]; then echo "python3.10 not found: the 3.10 unit run is skipped"; else \
	  test -x $(VENV310)/bin/python || $(PY310) -m venv $(VENV310); \
	  $(VENV310)/bin/python -m pip install -q --upgrade pip; \
	  $(VENV310)/bin/python -m pip install -q -e '.[dev,grpc,sentry]'; \
	  $(VENV310)/bin/python -m pip install -q --no-deps $(SIDE_BY_SIDE); \
	  $(VENV310)/bin/python -m pytest -q -rfEs -m "not integration" -p no:cacheprovider; \
	fi

demo: venv
	$(PY) -m examples.demo

# The demo's trace in the real Jaeger UI as docs/jaeger-trace.png (headless Chromium; a
# private stack on free ports; needs built Jaeger UI assets, see examples/screenshot.py).
screenshot: venv
	$(PY) -m examples.screenshot

stack-build:
	bash collector/scripts/build.sh

# TOPOLOGY=gateway: one agent, two gateways (tail sampling) and Jaeger on Badger.
TOPOLOGY ?= single

stack: venv stack-build
	STACK_TOPOLOGY=$(TOPOLOGY) bash collector/scripts/stack.sh up

stack-down:
	bash collector/scripts/stack.sh down

stack-status:
	STACK_TOPOLOGY=$(TOPOLOGY) bash collector/scripts/stack.sh status

# PEERS=1 also measures Elastic EDOT, Splunk and AWS ADOT Python (own venvs in .cache/bench-venvs);
# REFS="fd61a33 ..." also measures otel-distro at those revisions (venvs .cache/bench-venvs/ref-<sha>).
bench: venv
	$(PY) -m pip install -q -e '.[bench]'
	PEERS=$(PEERS) REFS="$(REFS)" $(PY) -m benchmarks

clean: stack-down
	rm -rf $(VENV) $(VENV310) .peer .cache .pytest_cache .mypy_cache .ruff_cache telemetry logs

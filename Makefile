# otel-distro developer entry points. `make test` and `make demo` bootstrap
# everything they need from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test unit integration lint typecheck demo stack stack-build stack-down stack-status bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,grpc,sentry]'
	touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check otel_distro tests examples benchmarks
	$(VENV)/bin/ruff format --check otel_distro

typecheck: venv
	$(VENV)/bin/mypy otel_distro

unit: venv
	$(PY) -m pytest -q -m "not integration"

integration: venv stack-build
	$(PY) -m pytest -q -m integration

test: venv stack-build
	$(MAKE) --no-print-directory lint typecheck
	$(PY) -m pytest -q

demo: venv
	$(PY) -m examples.demo

stack-build:
	bash collector/scripts/build.sh

stack: venv stack-build
	bash collector/scripts/stack.sh up

stack-down:
	bash collector/scripts/stack.sh down

stack-status:
	bash collector/scripts/stack.sh status

bench: venv
	$(PY) -m benchmarks

clean: stack-down
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache telemetry logs

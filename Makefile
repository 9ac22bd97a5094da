# harness — developer commands. `make test` and `make demo` do all set-up on a fresh Debian 12
# machine (as root: apt packages, dockerd, the fixtures' base image, the virtualenv).
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
export HARNESS_FIXTURE_BASE ?= harness-fixture-base:bookworm

.PHONY: help install setup check test unit integration bench demo clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed  ## create .venv with harness and the dev tools

setup: install  ## install and start what the Docker tests need (apt packages, dockerd, base image)
	bash scripts/setup-host.sh

check: install  ## ruff (format + lint) and mypy --strict
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

unit: install  ## fast tests: no Docker needed
	$(VENV)/bin/pytest -m "not docker" -q

integration: setup  ## only the tests that need Docker
	$(VENV)/bin/pytest -m docker --require-docker -q

test: setup  ## every test; a missing Docker daemon fails the run instead of skipping
	$(VENV)/bin/pytest --require-docker -q

demo: setup  ## the main job on the bundled reference algorithm (local registry on 127.0.0.1:5000)
	bash scripts/demo.sh

bench: install  ## benchmarks: print ratios against a baseline measured in the same run
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:  ## remove caches (not .venv)
	rm -rf .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist *.egg-info

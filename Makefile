# Two commands do everything (README): `make build` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

PYTHON_BOOT ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
DBT := $(VENV)/bin/dbt

export DBT_PROFILES_DIR := $(CURDIR)
export DBT_DUCKDB_PATH ?= $(CURDIR)/warehouse/dtc.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := False

DEMO_CUSTOMERS ?= 20000
# make bench: store sizes (customers) and runs per size
BENCH_SCALES ?= 10k,100k,1M
DEMO_SEED ?= 42
DEMO_DIR := warehouse/demo_raw
RAW_DIR ?=
# Source system of RAW_DIR (docs/sources/): contract (default), shopify_connector (a folder of
# Shopify connector tables, scripts/load_shopify.py) or shopify_export (a folder with Shopify's
# orders_export.csv, scripts/load_shopify_export.py).
SOURCE_SYSTEM ?= contract
export DTC_SOURCE_SYSTEM := $(SOURCE_SYSTEM)
RAW_LOADER := $(or $(if $(filter shopify_connector,$(SOURCE_SYSTEM)),scripts/load_shopify.py),$(if $(filter shopify_export,$(SOURCE_SYSTEM)),scripts/load_shopify_export.py),scripts/load_raw.py)
TEST_DB := $(CURDIR)/warehouse/test.duckdb
FIXTURE_DIR := tests/fixtures/store_small
export DTC_SERVING_PATH ?= $(CURDIR)/warehouse/serving.duckdb
# Spark target: Hive metastore + table files (absolute path: Derby resolves relative ones per process)
export DTC_SPARK_DIR ?= $(CURDIR)/warehouse/spark

.PHONY: build test setup setup-dev clean publish report docs services postgres-build full-refresh freshness bench bench-incremental setup-spark spark-build test-spark

$(VENV)/.stamp-runtime: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-runtime requirements-dev.txt requirements-spark.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	# test-only: the CDNOW sample ships in lifetimes' datasets/; its code is never imported
	$(PY) -m pip install --quiet --no-deps lifetimes==0.11.3
	touch $@

$(VENV)/.stamp-spark: $(VENV)/.stamp-runtime requirements-spark.txt
	$(PY) -m pip install --quiet -r requirements-spark.txt
	touch $@

setup: $(VENV)/.stamp-runtime
setup-dev: $(VENV)/.stamp-dev
setup-spark: $(VENV)/.stamp-spark

## build: setup -> demo data (or RAW_DIR) -> load -> dbt build (publishes the serving copy) -> summary
# Every path is quoted in the recipes: RAW_DIR="/x/shop exports" is one folder.
build: setup
ifeq ($(strip $(RAW_DIR)),)
	$(PY) scripts/generate_demo_store.py --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED) --out "$(DEMO_DIR)"
	$(MAKE) --no-print-directory load-and-build LOAD_DIR="$(DEMO_DIR)"
else
	$(MAKE) --no-print-directory load-and-build LOAD_DIR="$(RAW_DIR)"
endif

# One dbt command: seeds, models and data tests in DAG order (unit tests run in `make test`);
# its on-run-end hook publishes the serving copy when nothing failed (macro
# publish_serving_copy). --quiet: errors only; scripts/summary.py then prints the outcome.
.PHONY: load-and-build
load-and-build:
	$(PY) $(RAW_LOADER) --raw-dir "$(LOAD_DIR)" --database "$(DBT_DUCKDB_PATH)"
	$(DBT) build --quiet --exclude-resource-type unit_test || { $(PY) scripts/summary.py --database "$(DBT_DUCKDB_PATH)" --serving "$(DTC_SERVING_PATH)" --run-results target/run_results.json; exit 1; }
	$(PY) scripts/summary.py --database "$(DBT_DUCKDB_PATH)" --serving "$(DTC_SERVING_PATH)" --run-results target/run_results.json

## test: setup -> ruff -> dbt parse (warnings as errors) -> load the fixture store -> its dbt
## build -> pytest, with sqlfluff running beside the build and pytest
# What does not depend on each other runs side by side (docs/performance.md, "make test:
# where its time goes"). Each step's output is shown (sqlfluff's and the Spark / PostgreSQL
# stream's after the main pytest stream's); any failing step fails the target once the steps
# beside it have finished (pytest's exit 5, no test collected, counts as a failure).
PYTEST_WORKERS ?= 2
LINT_DIR := $(CURDIR)/warehouse/lint
test: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DBT_DUCKDB_PATH="$(TEST_DB)" $(DBT) --warn-error parse
	DBT_DUCKDB_PATH="$(TEST_DB)" $(PY) scripts/load_raw.py --raw-dir "$(FIXTURE_DIR)" --database "$(TEST_DB)"
	# sqlfluff (dbt templater) compiles against its own copy of the loaded warehouse (the
	# Shopify staging models read column lists at compile time, and the build holds the
	# warehouse's write lock), same file name so refs compile alike, own target and log folders.
	# The fixture build: seeds, models, data tests and the unit tests (their only run).
	# pytest, once the build passed, in concurrent streams reading the fixture warehouse
	# read-only: the Spark and PostgreSQL comparisons (their own JVM / server, folders and
	# warehouses) beside everything else, itself split over PYTEST_WORKERS processes by test
	# file (pytest-xdist --dist loadfile: a module's fixtures are built once; the demo warehouse
	# once per run, tests/conftest.py built_once; slowest files first, SLOWEST_FILES_FIRST).
	rm -rf "$(LINT_DIR)" && mkdir -p "$(LINT_DIR)" && cp "$(TEST_DB)" "$(LINT_DIR)/"
	DBT_DUCKDB_PATH="$(LINT_DIR)/$(notdir $(TEST_DB))" DBT_TARGET_PATH="$(LINT_DIR)/target" \
	  DBT_LOG_PATH="$(LINT_DIR)/logs" DBT_DUCKDB_TEMP_DIR="$(LINT_DIR)/tmp" \
	  $(VENV)/bin/sqlfluff lint models macros tests/dbt > "$(LINT_DIR)/sqlfluff.log" 2>&1 & lint=$$!; \
	build=0; main=0; targets=0; \
	DBT_DUCKDB_PATH="$(TEST_DB)" $(DBT) build || build=$$?; \
	if [ $$build -eq 0 ]; then \
	  DTC_TEST_WAREHOUSE="$(TEST_DB)" $(PY) -m pytest -q -p no:cacheprovider --durations=10 -m "spark or postgres" \
	    > "$(CURDIR)/warehouse/pytest-targets.log" 2>&1 & targets_pid=$$!; \
	  DTC_TEST_WAREHOUSE="$(TEST_DB)" $(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25 \
	    -m "not spark and not postgres" || main=$$?; \
	  wait $$targets_pid || targets=$$?; \
	  echo "--- pytest -m 'spark or postgres' (warehouse/pytest-targets.log) ---"; \
	  cat "$(CURDIR)/warehouse/pytest-targets.log"; \
	fi; \
	lint_rc=0; wait $$lint || lint_rc=$$?; \
	echo "--- sqlfluff lint models macros tests/dbt ($(LINT_DIR)/sqlfluff.log) ---"; \
	cat "$(LINT_DIR)/sqlfluff.log"; \
	echo "make test: dbt build $$build, pytest $$main, pytest spark/postgres $$targets, sqlfluff $$lint_rc"; \
	[ $$build -eq 0 ] && [ $$main -eq 0 ] && [ $$targets -eq 0 ] && [ $$lint_rc -eq 0 ]

## publish: copy the marts into the serving file BI tools read (DuckDB 1.5 format, atomic)
publish: setup
	$(PY) scripts/publish.py --database "$(DBT_DUCKDB_PATH)" --out "$(DTC_SERVING_PATH)"

## audiences: one CSV per CRM audience (customer_id, email_hash, reason) from the serving file
## into AUDIENCES_DIR; no clear email (docs: fct_audiences in docs/marts.md)
AUDIENCES_DIR ?= reports/audiences
.PHONY: audiences
audiences: setup
	test -f "$(DTC_SERVING_PATH)" || $(MAKE) --no-print-directory publish
	$(PY) scripts/export_audiences.py --database "$(DTC_SERVING_PATH)" --out-dir "$(AUDIENCES_DIR)"

## report: reports/report.html from the serving file (offline, self-contained)
report: setup
	test -f "$(DTC_SERVING_PATH)" || $(MAKE) --no-print-directory publish
	$(PY) scripts/report.py --database "$(DTC_SERVING_PATH)" --out reports/report.html

## docs: dbt docs as one offline page: target/static_index.html
docs: setup
	$(DBT) docs generate --static
	@echo "docs: $(CURDIR)/target/static_index.html"

## services: PostgreSQL (loopback) + Chromium from Debian packages, for the serving tests
services:
	bash scripts/ci_services.sh

## postgres-build: the same models in PostgreSQL (PG* env vars; README: Serving)
postgres-build: setup
	$(PY) scripts/load_postgres.py --raw-dir "$(or $(RAW_DIR),$(DEMO_DIR))"
	$(DBT) build --target postgres --exclude-resource-type unit_test

## full-refresh: rebuild every model from scratch, incremental facts included
full-refresh: setup
	$(DBT) build --full-refresh --exclude-resource-type unit_test

## freshness: how old the newest order, refund and spend row are (warn / error thresholds: vars).
## The demo store ends on a fixed date (generator's DEFAULT_END_DATE, 2026-10-31): without
## RAW_DIR its age is measured from the day after (FRESHNESS_REFERENCE); with RAW_DIR, from now.
DEMO_FRESHNESS_REFERENCE := 2026-11-01
FRESHNESS_REFERENCE ?= $(if $(strip $(RAW_DIR)),,$(DEMO_FRESHNESS_REFERENCE))
freshness: setup
	$(DBT) source freshness $(if $(FRESHNESS_REFERENCE),--vars '{freshness_reference: "$(FRESHNESS_REFERENCE)"}')

## bench: build vs reference script (bench/reference_core.sql) vs pandas peer at 10k / 100k / 1M customers, CPU s and load average, busy runs not published (docs/performance.md)
bench: setup-dev
	$(PY) scripts/benchmark.py --scales "$(BENCH_SCALES)" --runs $(or $(BENCH_RUNS),3) $(if $(BENCH_RUNS_LARGE),--runs-large $(BENCH_RUNS_LARGE)) --out bench/results

## bench-incremental: incremental vs full-refresh build time and row-for-row comparison
bench-incremental: setup
	$(PY) bench/incremental.py --base "$(DEMO_DIR)" --work warehouse/bench

## spark-build: the same models on Spark, in-process (Java 17; README "Beyond one machine")
spark-build: setup-spark
	$(PY) scripts/load_spark.py --raw-dir "$(or $(RAW_DIR),$(DEMO_DIR))"
	$(DBT) build --target spark  # seeds included: one JVM start, not two

## test-spark: the fixture store on Spark equals the DuckDB build, row for row (also in `make test`)
test-spark: setup-dev
	DTC_TEST_WAREHOUSE="$(TEST_DB)" $(PY) -m pytest -q tests/test_spark.py

clean:
	rm -rf target logs warehouse dbt_packages

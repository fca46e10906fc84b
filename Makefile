# Grassroots governance evaluation platform.
#   make demo   set up what is missing, generate the demo region, run the pipeline through Airflow
#   make test   set up what is missing and run the whole test suite (what .ci/run runs)
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3.11
ROOT := $(abspath .)
VENV := $(ROOT)/.venv
DBT_VENV := $(ROOT)/.venv-dbt
UV := $(ROOT)/.tools/bin/uv
ENV := source $(ROOT)/scripts/env.sh &&
PYTEST_ARGS ?=

help:
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

$(UV): requirements/tools.lock
	$(PYTHON) -m venv $(ROOT)/.tools
	$(ROOT)/.tools/bin/pip install -q --disable-pip-version-check --require-hashes -r requirements/tools.lock
	touch $(UV)

# Each venv is re-synced only when its lock file changes (a second run installs nothing).
$(VENV)/.synced: requirements/airflow.lock $(UV)
	[ -x $(VENV)/bin/python ] || $(UV) venv -q --python $(PYTHON) $(VENV)
	VIRTUAL_ENV=$(VENV) $(UV) pip sync -q --require-hashes --compile-bytecode requirements/airflow.lock
	echo "$(ROOT)/plugins" > $$($(VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/grassroots_plugins.pth
	touch $@

$(DBT_VENV)/.synced: requirements/dbt.lock $(UV)
	[ -x $(DBT_VENV)/bin/python ] || $(UV) venv -q --python $(PYTHON) $(DBT_VENV)
	VIRTUAL_ENV=$(DBT_VENV) $(UV) pip sync -q --require-hashes --compile-bytecode requirements/dbt.lock
	touch $@

venvs: $(VENV)/.synced $(DBT_VENV)/.synced ## create both virtualenvs from the lock files

$(ROOT)/.airflow/.migrated: $(VENV)/.synced
	$(ENV) $(VENV)/bin/python -m grassroots.cli airflow-init
	touch $@

DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml

# Re-parsed only when the project changes.
dbt_project/target/manifest.json: $(DBT_VENV)/.synced $(DBT_SOURCES)
	$(ENV) cd dbt_project && $(DBT_VENV)/bin/dbt parse --quiet
	touch $@

dbt-manifest: dbt_project/target/manifest.json ## precompile the dbt manifest (dbt parse)

setup: venvs $(ROOT)/.airflow/.migrated dbt-manifest ## everything the demo and the tests need

demo: setup ## generate the demo region and run the whole pipeline through Airflow
	$(ENV) GRASSROOTS_DEMO=1 $(VENV)/bin/python -m grassroots.cli demo

# The skip count ends `make test` (zero under CI=true, where a skip fails the run: tests/ci_skips.py).
JUNIT := $(ROOT)/test-artifacts/junit.xml
export SKIP_COUNT := import sys, xml.etree.ElementTree as ET; \
  n = sum(int(s.get("skipped", 0)) for s in ET.parse(sys.argv[1]).getroot().iter("testsuite")); \
  print(f"skipped tests: {n}")

test: setup ## run the whole test suite (unit, dbt on DuckDB and PostgreSQL, Airflow end to end)
	$(ENV) bash scripts/ensure_services.sh
	bash scripts/ensure_debian_tools.sh
	rm -f $(JUNIT); $(ENV) $(VENV)/bin/python -m pytest --junitxml=$(JUNIT) $(PYTEST_ARGS); status=$$?; \
	$(VENV)/bin/python -c "$$SKIP_COUNT" $(JUNIT) || echo "skipped tests: unknown (no report $(JUNIT))"; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing on purpose" >&2; exit 1; fi; exit $$status

lint: venvs ## ruff and sqlfluff
	$(VENV)/bin/ruff check plugins dags tests bench expectations include
	$(VENV)/bin/ruff format --check plugins dags tests bench expectations include
	$(ENV) cd dbt_project && $(DBT_VENV)/bin/sqlfluff lint models

AIRFLOW_PORT ?= 8080
# exec: make's SIGTERM reaches the wrapper, which stops every Airflow process it started.
airflow: setup ## run Airflow locally (UI on http://localhost:8080; admin password in .airflow/simple_auth_manager_passwords.json.generated)
	$(ENV) exec $(VENV)/bin/python -m grassroots.local_airflow --port $(AIRFLOW_PORT)

lock: $(UV) ## re-resolve the pinned lock files from requirements/*.in
	$(UV) pip compile -q --python-version 3.11 --generate-hashes requirements/airflow.in -o requirements/airflow.lock
	$(UV) pip compile -q --python-version 3.11 --generate-hashes requirements/dbt.in -o requirements/dbt.lock
	$(UV) pip compile -q --python-version 3.11 --generate-hashes requirements/tools.in -o requirements/tools.lock

SCALE ?= tiny
bench: setup ## benchmark the pipeline and the bare-DuckDB lower bound: make bench SCALE=tiny|province|national
	$(ENV) nice -n 10 $(VENV)/bin/python bench/pipeline.py --scale $(SCALE)

clean-data: ## remove generated data, warehouse and reports (keeps the environments)
	rm -rf data reports test-artifacts

.PHONY: help venvs dbt-manifest setup demo test lint airflow lock clean-data bench

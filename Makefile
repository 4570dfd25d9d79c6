# Reconciliation workbench (对账工作台): the two commands are `make report` and `make test`.
# Everything runs in ./.venv, created with `python3 -m venv` on first use and reused afterwards
# (pip runs again only when pyproject.toml is newer than the .venv/.installed stamp).

PYTHON ?= python3
VENV   ?= .venv
PERIOD ?= 2026-10
SEED   ?= 7
DEMO   ?= data/demo
REPORTS ?= reports
JOBS   ?=
PYTEST_ARGS ?= -n 2

PY      := $(VENV)/bin/python
DEMO_STAMP := $(DEMO).$(PERIOD)-seed$(SEED).stamp
RECON   := $(VENV)/bin/recon
STAMP   := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PIP_QUIET := $(if $(CI),--quiet --progress-bar off,)

.DEFAULT_GOAL := help
.PHONY: help install report demo test lab bench clean

help: ## Show this help
	@echo "Reconciliation workbench - make targets:"
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-8s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml .ci/system-packages | $(PY)
	.ci/system-packages
	$(PY) -m pip install $(PIP_QUIET) --upgrade pip
	$(PY) -m pip install $(PIP_QUIET) -e '.[dev]'
	@touch $(STAMP)

# the tests also run the Spark engine: its extra and Java 17 (installed only here, never for `make report`)
$(TEST_STAMP): $(STAMP)
	.ci/system-packages --test
	$(PY) -m pip install $(PIP_QUIET) -e '.[dev,spark]'
	@touch $(TEST_STAMP)

install: $(STAMP) ## Create .venv and install the workbench with its dev extras (only when needed)

$(DEMO_STAMP): $(STAMP) $(wildcard recon_helpers/demo/*.py) $(wildcard templates/rate_cards/*.yaml)
	$(RECON) demo --out $(DEMO) --period $(PERIOD) --seed $(SEED)
	@touch $@

demo: $(DEMO_STAMP) ## Generate the deterministic demo month into data/demo

REPORT_ARGS = --period $(PERIOD) --data $(DEMO) --out $(REPORTS)$(if $(JOBS), --jobs $(JOBS),)

report: $(DEMO_STAMP) ## Build the demo month's report (JOBS=n notebooks at once, default the cores); prints reports/<period>/index.html
	@echo "$(RECON) report $(REPORT_ARGS)"
	@$(RECON) report $(REPORT_ARGS); status=$$?; \
	  echo ""; echo "Report: $(abspath $(REPORTS)/$(PERIOD)/index.html)"; exit $$status

test: $(TEST_STAMP) ## Lint (ruff), then the whole test suite (unit + notebook tests) on 2 cores
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

lab: $(DEMO_STAMP) ## Open JupyterLab on notebooks/ (the demo data is their default input)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

bench: $(STAMP) ## Run the speed benchmarks in benchmarks/ (large generated data, several minutes)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean: ## Remove generated demo data and reports (keeps .venv)
	rm -rf $(DEMO) $(DEMO).*.stamp $(REPORTS)

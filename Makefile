# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: run test bench lint install install-test browser clean update-baseline screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps re-install only when pyproject.toml changes.
# The dashboard, Dask and discovery extras come with the main install: workshops,
# `--dask local` and `introsim discover` need nothing else.
$(VENV)/.installed: pyproject.toml Makefile | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dashboard,dask,discover]'
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,lint]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@

install: $(VENV)/.installed

# The main job: standard follow-up against IPS, with an HTML report. It runs over the shipped
# posterior ensemble (the calibration's plausible parameter sets, every member with every
# replicate), so each number carries what we do not know about the mechanisms, chance in one
# real cohort and the simulation's precision. ENSEMBLE= (empty) runs the parameters as written,
# over 30 replicates, and the report says the mechanisms' range is not shown.
ENSEMBLE ?= calibration/posterior.toml
RUN_OVER = $(if $(ENSEMBLE),--ensemble $(ENSEMBLE) --replications 4,--replications 30)
run: $(VENV)/.installed
	$(BIN)/introsim compare scenarios/baseline.toml scenarios/ips.toml $(RUN_OVER) --jobs 2 --out $(OUT)/compare
	@echo "report: $(OUT)/compare/report.html (open it in a browser; it works offline)"

# Debian's Chromium for the browser tests; installed only when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Every check, then every test. pytest exits 5 when it collected no test; make treats that as
# a failure.
test: lint browser
	$(BIN)/pytest

bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks.run

# The same checks as the pre-commit hooks (.pre-commit-config.yaml), and the type checker on
# src/ (its settings, with warn_unused_ignores, are in pyproject.toml).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/codespell
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache .mypy_cache

# The committed regression baseline (tests/baseline.json): rewrite it after an intended change
# of results, and say why in CHANGELOG.md.
update-baseline: $(VENV)/.installed-test
	$(BIN)/python -c "import sys; sys.path[:0] = ['src', 'tests']; import baseline; baseline.main()"

# The dashboard's pictures in docs/ (desktop, phone in bokmål, projector at 1920 x 1080), made by
# the browser tests' own code; `make test` writes its pictures to tests/artifacts/ only.
screenshots: $(VENV)/.installed-test browser
	$(BIN)/python tests/dashboard_browser.py docs

# Ember: two commands for a newcomer — `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EMBER_DB ?= var/ember.gpkg
export EMBER_DB

.PHONY: run test lint bench demo install clean

# The stamp depends on pyproject.toml, so a changed dependency list reinstalls, and a second
# `make run` costs nothing here.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Ember needs Python 3.11 or newer / 需要 Python 3.11 及以上")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# The demo town is built once, its year ending now (so the wall shows no future events);
# delete var/ember.gpkg (or run `make demo`) to rebuild it. `ember demo` alone is deterministic.
$(EMBER_DB): | $(VENV)/.installed
	@if [[ "$(EMBER_DB)" == postgresql://* ]]; then echo "EMBER_DB is PostGIS: run 'ember demo' yourself"; else \
	  $(BIN)/ember demo --end now --out $(EMBER_DB); fi

demo: $(VENV)/.installed
	$(BIN)/ember demo --end now --out $(EMBER_DB)

run: $(VENV)/.installed $(EMBER_DB)
	$(BIN)/ember serve

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(VENV)/.installed lint
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache

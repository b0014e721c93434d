# Each target creates its own virtualenv (.venv) with the python on PATH; PYTHON= overrides.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo quickstart test lint typecheck docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed-test: pyproject.toml examples/plugin/pyproject.toml | $(BIN)/python
	$(PIP) install -e ".[dev,serve,plot]"
	$(PIP) install -e examples/plugin
	touch $@

# The fraud example end to end, each step its own process, on a fresh store.
demo: | $(BIN)/python
	$(PIP) install -e ".[examples]"
	rm -rf examples/fraud/.rtml
	cd examples/fraud && RTML_HOME=$(CURDIR)/examples/fraud/.rtml \
		$(MAKE) all PYTHON=$(abspath $(BIN)/python)

quickstart: | $(BIN)/python
	$(PIP) install -e .
	$(BIN)/python examples/quickstart.py

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -p no:cacheprovider
	$(BIN)/ruff check src tests tests_flink examples benchmarks
	$(BIN)/mypy
	$(BIN)/mkdocs build --strict -q -d $(VENV)/site

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests tests_flink examples benchmarks

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

docs: $(VENV)/.installed-test
	$(BIN)/mkdocs build --strict

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/features.py

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache .hypothesis

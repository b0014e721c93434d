# Each target creates its own virtualenv (.venv) with the python on PATH; PYTHON= overrides.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo quickstart test test-core test-flink lint typecheck docs bench bench-flink clean

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

# The core suite, then the Flink suite in a virtualenv of its own (PyFlink pins pandas<2.3
# and pyarrow<21; it runs on PyFlink's local mini-cluster and needs Java 17).
test: test-core test-flink

# Each suite prints when it starts and its slowest tests, so that a slow CI run shows where
# its time went.
test-core: $(VENV)/.installed-test
	@echo "test-core: pytest started at $$(date -u +%T)"
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --durations=10  # CPU-bound: two workers
	$(BIN)/ruff check src tests tests_flink examples benchmarks
	$(BIN)/mypy
	$(BIN)/mkdocs build --strict -q -d $(VENV)/site

FLINK_VENV ?= .venv-flink
FLINK_BIN := $(FLINK_VENV)/bin

$(FLINK_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(FLINK_VENV)
	$(FLINK_BIN)/python -m pip --disable-pip-version-check -q install --upgrade pip
	$(FLINK_BIN)/python -m pip --disable-pip-version-check -q install -e ".[flink,test,examples]"
	touch $@

test-flink: $(FLINK_VENV)/.installed
	@command -v java >/dev/null || { echo "The Flink tests need Java 17 (Debian: apt-get install openjdk-17-jre-headless)"; exit 1; }
	@echo "test-flink: pytest started at $$(date -u +%T)"
	$(FLINK_BIN)/python -m pytest -v -o console_output_style=times -p no:cacheprovider \
		-c tests_flink/pytest.ini --rootdir . tests_flink src/rtml/backends/flink

bench-flink: $(FLINK_VENV)/.installed
	$(FLINK_BIN)/python -m benchmarks.flink

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests tests_flink examples benchmarks

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

docs: $(VENV)/.installed-test
	$(BIN)/mkdocs build --strict

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/features.py

clean:
	rm -rf $(VENV) $(FLINK_VENV) site .pytest_cache .mypy_cache .ruff_cache .hypothesis

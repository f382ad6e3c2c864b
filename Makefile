# The two commands of the README:
#   make run    installs, migrates, seeds a demo practice, serves http://127.0.0.1:8000
#   make test   installs the test dependencies and runs the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test system-deps lint typecheck pytest jstest bundle-hash vectors bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/confide migrate --noinput
	$(BIN)/confide seed_demo
	$(BIN)/confide serve

test: system-deps $(VENV)/.installed-test lint typecheck jstest pytest

# Node (the browser crypto's tests) and Debian's Chromium (the browser tests, driven by
# Playwright; never `playwright install`), from Debian's packages when missing.
system-deps:
	@command -v node >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs; }
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy crypto messaging portal

# The browser's crypto against the same vectors; Node's own test runner, no npm install.
jstest:
	node --test tests/js/

pytest: $(VENV)/.installed-test
	$(BIN)/pytest $(PYTEST_ARGS)

# The published hash of every file the browser runs (docs/web-client.md).
bundle-hash: $(VENV)/.installed
	$(BIN)/python -m frontend.bundle

vectors: $(VENV)/.installed
	$(BIN)/python -m crypto.make_vectors

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

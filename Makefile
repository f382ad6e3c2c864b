# The two commands of the README:
#   make run    installs, migrates, seeds a demo practice, serves http://127.0.0.1:8000
#   make test   installs the test dependencies and runs the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test system-deps lint contracts typecheck docs pytest jstest protocol lock bundle-hash vectors bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs exactly the versions (and files: every one is checked against its hash) of
# requirements.lock and requirements-test.lock; `make lock` makes them again from
# pyproject.toml. The project itself goes in last, editable, without resolving anything.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: requirements-test.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(VENV)/.installed $@

LOCK_FOR := --python-version 3.11 --python-platform x86_64-unknown-linux-gnu --generate-hashes

# Setuptools is the build backend of the editable install, which runs without isolation.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	printf 'setuptools>=77\n' > $(VENV)/build.in
	$(BIN)/uv pip compile --quiet pyproject.toml $(VENV)/build.in $(LOCK_FOR) -o requirements.lock
	$(BIN)/uv pip compile --quiet pyproject.toml $(VENV)/build.in --extra test $(LOCK_FOR) \
		-o requirements-test.lock

run: $(VENV)/.installed
	$(BIN)/confide migrate --noinput
	$(BIN)/confide seed_demo
	$(BIN)/confide serve

test: system-deps $(VENV)/.installed-test lint contracts typecheck docs jstest pytest

# Node (the browser crypto's tests), Debian's Chromium (the browser tests, driven by
# Playwright; never `playwright install`), Debian's nginx (tests/deploy runs
# deploy/nginx/confide.conf in front of two servers) and PgBouncer (the portal through a
# pooler in transaction mode), from Debian's packages when missing.
system-deps:
	@command -v node >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs; }
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }
	@test -x /usr/sbin/nginx || { apt-get update -qq && apt-get install -y -qq nginx; }
	@command -v systemd-analyze >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq systemd; }
	@command -v pgbouncer >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq pgbouncer; }

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The layers and forbidden imports of docs/architecture.md (pyproject.toml,
# [tool.importlinter]), and the committed protocol schema against its definition.
contracts: $(VENV)/.installed-test
	$(BIN)/lint-imports
	$(BIN)/python -m protocol.schema --check

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy crypto protocol accounts messaging portal frontend confide_client harness tests bench

# The Python client's reference (docs/client: its pages, its examples, and every public name
# of confide_client from its docstrings), built afresh with warnings as errors and every
# cross-reference checked, so that it cannot drift from the code. Output: build/docs/client.
docs: $(VENV)/.installed-test
	$(BIN)/sphinx-build -b html -W --keep-going -n -E -q docs/client build/docs/client

# The browser's crypto against the same vectors, and the app's logic and frames against
# protocol/schema.json; Node's own test runner. npm installs only the test-only tools of
# package.json (Ajv), exactly as package-lock.json pins them; nothing of it is served.
jstest:
	npm ci --no-audit --no-fund --silent
	node --test tests/js/

# The suite on every core: a pytest-xdist worker per core, each taking whole files (so a
# file's servers and stacks start once, in one worker), each with a Redis key prefix of
# its own for the in-process tests (two workers' test databases hold the same user ids,
# and rate limits and channel groups are named by them). Beside them, the browser tests
# in one process of their own (their output follows the rest's): Playwright keeps an event
# loop running in its process for as long as its browser lives, where no asyncio test can
# run, and they wait on the browser more than they compute. `make pytest XDIST=` runs the
# first part in one process; PYTEST_ARGS are options for both (not paths).
WORKERS ?= $(shell nproc)
XDIST ?= --dist loadfile $(foreach i,$(shell seq 0 $$(( $(WORKERS) - 1 ))),--tx popen//env:CONFIDE_REDIS_PREFIX=confide-gw$(i))
BROWSER_LOG := build/pytest-browser.log

pytest: $(VENV)/.installed-test
	@mkdir -p build
	@( $(BIN)/pytest tests/browser $(PYTEST_ARGS) > $(BROWSER_LOG) 2>&1; \
	   echo $$? > $(BROWSER_LOG).rc ) & \
	$(BIN)/pytest $(XDIST) --ignore=tests/browser $(PYTEST_ARGS); rest=$$?; \
	wait; echo "--- the browser tests:"; cat $(BROWSER_LOG); \
	test $$rest -eq 0 && test "$$(cat $(BROWSER_LOG).rc)" = 0

# protocol/schema.json and the browser's protocol.js, from the protocol package.
protocol: $(VENV)/.installed
	$(BIN)/python -m protocol.schema

# The published hash of every file the browser runs (docs/web-client.md).
bundle-hash: $(VENV)/.installed
	$(BIN)/python -m frontend.bundle

vectors: $(VENV)/.installed
	$(BIN)/python -m crypto.make_vectors

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

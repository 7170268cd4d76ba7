# Every target uses the project's own virtual environment, created on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install format lint typecheck test test-fast test-unit test-integration faults bench \
	bench-smoke all clean demo lock agents test-slow

# Each target that needs Debian packages installs the missing ones first, as root with apt-get,
# or says in one line which to install and how (deploy/debian-packages).
PACKAGES := sh deploy/debian-packages

$(STAMP): pyproject.toml
	PYTHON=$(PYTHON) $(PACKAGES) venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

typecheck: $(STAMP)
	$(BIN)/mypy

# The suite on both cores, each xdist worker with its own throwaway servers, a file's tests on
# one worker. make test leaves out the slow tier: real third-party packages fetched from the
# index, the real coding agents' programs and the fault test (minutes each); make test-slow runs
# it, and CI runs both.
XDIST := -n 2 --dist loadfile

test: $(STAMP)
	$(PACKAGES) test
	$(BIN)/pytest $(XDIST) -m "not slow"

test-slow: $(STAMP)
	$(PACKAGES) test
	$(MAKE) agents
	$(BIN)/pytest $(XDIST) -m slow

# The tier that needs no server: unit tests and the checks of the docs and files (seconds).
test-fast: $(STAMP)
	$(BIN)/pytest -m "not integration" tests/unit tests/test_readme.py tests/test_compose.py

test-unit: $(STAMP)
	$(BIN)/pytest tests/unit

test-integration: $(STAMP)
	$(PACKAGES) test
	$(BIN)/pytest -m integration

# The fault test alone, printing its figures and keeping them in build/fault-figures.json.
faults: $(STAMP)
	$(PACKAGES) test
	mkdir -p build
	FAULTS_REPORT=build/fault-figures.json $(BIN)/pytest -m faults -s

# Bare Celery chords against the orchestrated workflow, and the repository-size, sandbox,
# head-of-line and memory shapes (docs/performance.md), e.g. `make bench SHAPES=medium` or
# `SHAPES=200x10,repo:1x50:100,repo:1x50:10000`; the JSON document is kept in build/bench.json.
SHAPES ?= full
bench: $(STAMP)
	mkdir -p build
	$(BIN)/python -m tests.benchmarks --shapes $(SHAPES) --json build/bench.json

# The smoke selection (small chord, repository and sandbox shapes; a couple of minutes):
# what CI runs so a regression shows in its log.
bench-smoke: $(STAMP)
	mkdir -p build
	$(BIN)/python -m tests.benchmarks --shapes smoke --json build/bench-smoke.json >/dev/null

all: lint test

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache build *.egg-info

# The embedded demo: a whole session on a sample repository, no server needed.
demo: $(STAMP)
	$(PACKAGES) demo
	$(BIN)/ctw demo

# The pinned, hashed dependencies the image installs (Dockerfile); run after changing
# pyproject.toml's dependencies. tests/test_compose.py checks that it covers them.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra runner --generate-hashes --universal \
		--python-version 3.11 --custom-compile-command "make lock" --quiet -o requirements.lock

# The real coding agents' programs, for the tests that drive them against the stand-in model
# server (tests/agents/model_server.py), each in a tool folder of its own under build/ (never
# under /tmp: the sandbox's /tmp is private, so a program installed there is not found in it).
AGENT_TOOLS        ?= build/agent-tools
CLAUDE_CODE_VERSION ?= 2.1.197
AIDER_VERSION       ?= 0.86.2

$(AGENT_TOOLS)/claude-code/.installed:
	mkdir -p $(AGENT_TOOLS)/claude-code
	# Node trusts the host's certificate store, as pip, git and uv do (a TLS-intercepting proxy).
	NODE_OPTIONS="--use-openssl-ca $$NODE_OPTIONS" npm install --prefix $(AGENT_TOOLS)/claude-code \
		--no-audit --no-fund --loglevel=error @anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION)
	touch $@

$(AGENT_TOOLS)/aider/.installed:
	$(PYTHON) -m venv $(AGENT_TOOLS)/aider
	$(AGENT_TOOLS)/aider/bin/pip install --quiet --upgrade pip
	$(AGENT_TOOLS)/aider/bin/pip install --quiet aider-chat==$(AIDER_VERSION)
	touch $@

agents: $(AGENT_TOOLS)/claude-code/.installed $(AGENT_TOOLS)/aider/.installed

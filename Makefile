PYTHON ?= python3
# Where scripts/install puts the virtualenv.
VENV := .venv
BIN := $(VENV)/bin
# The import contracts in pyproject.toml (docs/architecture.md). No cache: the whole check takes
# well under a second, and a cache directory would be one more thing to ignore.
LINT_IMPORTS := $(BIN)/lint-imports --no-cache

.PHONY: run test lint format bench clean

# scripts/install and scripts/start are the one way to install and start the helpdesk: servers
# (deploy/helpdesk.service, Dockerfile) run them too, so what `make run` does is what they do.
$(BIN)/helpdesk: pyproject.toml scripts/install
	@PYTHON=$(PYTHON) scripts/install --editable
	@touch $@

# The dev extras' install includes the plain one: a fresh clone installs once, not twice (a
# second pip run resolving everything again took a quarter of `make test`'s set-up).
$(VENV)/.dev: pyproject.toml scripts/install
	@PYTHON=$(PYTHON) scripts/install --editable --dev
	@touch $@ $(BIN)/helpdesk

## run: create .venv, install, start the helpdesk; without Slack tokens, in sandbox mode
run: $(BIN)/helpdesk
	@scripts/start --sandbox auto

# Three workers on two cores: part of the suite waits, and four starved Slack's 3-second acks. They are handed out a few at a time in
# order, the longest first (tests/conftest.py, STARTED_FIRST), so the workers finish together.
## test: create .venv with the dev extras, install the Debian packages the suite drives when missing, lint, check the import contracts, run the whole test suite
test: $(VENV)/.dev
	@scripts/test-system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(LINT_IMPORTS)
	$(BIN)/pytest -n 3 --dist load --maxschedchunk 1 --durations=15

# The longest first: BENCH_QUICK=1 runs two at a time (scripts/bench).
BENCHMARKS := ack_latency ingest chat_sse kb_search digest sla_sweep reply_stripping

## bench: run every benchmark under bench/, print their tables, then one table of headlines; fail if one broke (BENCH_QUICK=1: small sizes, two at a time, a few minutes)
bench: $(VENV)/.dev
	@scripts/bench $(BIN)/python $(BENCHMARKS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(LINT_IMPORTS)

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache

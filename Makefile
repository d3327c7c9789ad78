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

# Four workers on two cores: the tests mostly wait. They are handed out a few at a time in
# order, the longest first (tests/conftest.py, STARTED_FIRST), so the workers finish together.
## test: create .venv with the dev extras, install the Debian packages the suite drives when missing, lint, check the import contracts, run the whole test suite
test: $(VENV)/.dev
	@scripts/test-system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(LINT_IMPORTS)
	$(BIN)/pytest -n 3 --dist load --maxschedchunk 1 --durations=15

BENCHMARKS := sla_sweep digest chat_sse ack_latency ingest

# With BENCH_QUICK=1 each benchmark runs at small sizes, and one that hangs is stopped.
BENCH_LIMIT := $(if $(filter 1,$(BENCH_QUICK)),timeout 300)

## bench: run every benchmark under bench/, print their tables, then one table of headlines; fail if one broke (BENCH_QUICK=1: small sizes, a few minutes)
bench: $(VENV)/.dev
	@rm -f .bench-results.jsonl
	@started=$$(date +%s); broken=""; \
	for name in $(BENCHMARKS); do \
		BENCH_RESULTS=.bench-results.jsonl $(BENCH_LIMIT) $(BIN)/python bench/$$name.py \
			|| broken="$$broken $$name"; \
	done; \
	$(BIN)/python bench/summary.py .bench-results.jsonl; \
	echo "make bench: $$(( $$(date +%s) - started )) s"; \
	if [ -n "$$broken" ]; then echo "make bench: broken:$$broken" >&2; exit 1; fi

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(LINT_IMPORTS)

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache

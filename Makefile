PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench clean

# pip's chatter (and this machine's index warnings) goes to a log; a failed install shows its tail.
PIP_INSTALL = $(BIN)/pip install --disable-pip-version-check >>$(VENV)/install.log 2>&1

$(BIN)/helpdesk: pyproject.toml
	@echo "installing helpdesk-bot into $(VENV) (log: $(VENV)/install.log)..."
	@$(PYTHON) -m venv $(VENV)
	@: >$(VENV)/install.log
	@$(PIP_INSTALL) --upgrade pip && $(PIP_INSTALL) -e . \
		|| { tail -n 25 $(VENV)/install.log; echo "install failed: see $(VENV)/install.log"; exit 1; }
	@touch $@

$(VENV)/.dev: $(BIN)/helpdesk
	@echo "installing the test tools..."
	@$(PIP_INSTALL) -e '.[dev]' \
		|| { tail -n 25 $(VENV)/install.log; echo "install failed: see $(VENV)/install.log"; exit 1; }
	@touch $@

## run: create .venv, install, start the helpdesk; without Slack tokens, in sandbox mode
run: $(BIN)/helpdesk
	@$(BIN)/helpdesk serve --sandbox auto

## test: create .venv with the dev extras, install the Debian packages the suite drives when missing, lint, run the whole test suite
test: $(VENV)/.dev
	@scripts/test-system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n 3

BENCHMARKS := sla_sweep digest chat_sse ack_latency ingest

## bench: run every benchmark under bench/, print their tables, then one table of headlines
bench: $(VENV)/.dev
	@rm -f .bench-results.jsonl
	@for name in $(BENCHMARKS); do \
		BENCH_RESULTS=.bench-results.jsonl $(BIN)/python bench/$$name.py || exit 1; done
	@$(BIN)/python bench/summary.py .bench-results.jsonl

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache

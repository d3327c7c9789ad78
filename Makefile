PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench clean

$(BIN)/helpdesk: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(BIN)/helpdesk
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## run: create .venv, install, start the helpdesk; without Slack tokens, in sandbox mode
run: $(BIN)/helpdesk
	$(BIN)/helpdesk serve --sandbox auto

## test: create .venv with the dev extras, lint, run the whole test suite
test: $(VENV)/.dev
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

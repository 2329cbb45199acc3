# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test install dev lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

# The demo uses the classifier Arena, the data check, drift monitoring, PDF cards and the
# dashboard.
install: $(BIN)/python
	$(PIP) -e '.[ml,monitor,cards,server]'

# torch is pinned: 2.13.0 is a CPU wheel that lies on the machine; anything else
# would download a multi-GB CUDA build.
dev: $(BIN)/python
	$(PIP) -e '.[dev]'

demo: install
	bash scripts/demo.sh

lint: dev
	$(BIN)/ruff check src tests bench scripts fuzz
	$(BIN)/ruff format --check src tests bench scripts fuzz

typecheck: dev
	$(BIN)/mypy --strict src

pytest: dev
	$(BIN)/pytest

test: lint typecheck pytest

bench: install
	$(BIN)/python bench/ledger.py

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache .mypy_cache .ruff_cache

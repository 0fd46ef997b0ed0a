# Quick start: `make demo` and `make test`. Both create .venv and install the pinned dependencies
# when pyproject.toml changed (torch is pinned to the CPU wheel; see pyproject.toml).
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DATA := data/demo
DEMO_MODEL := artifacts/demo

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# llama-cpp-python compiles llama.cpp on install: build only the text library (no multimodal tools),
# on every core. This roughly halves a fresh machine's setup.
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc)

.PHONY: setup models demo test lint bench-ranker bench-narrator clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,fast,model-small]'
	$(BIN)/whyrec models prepare --model small
	touch $@

models: setup
	$(BIN)/pip install --quiet -e '.[model-default]'
	$(BIN)/whyrec models prepare --model default

setup: $(STAMP)

# Each demo step says what it did and how long it took; the server logs when it is ready and how long that took.
demo: setup
	@t=$$(date +%s); $(BIN)/whyrec data demo --out $(DEMO_DATA) && echo "[demo] shop generated in $$(( $$(date +%s) - t )) s"
	@t=$$(date +%s); $(BIN)/whyrec train --data $(DEMO_DATA) --out $(DEMO_MODEL) && echo "[demo] ranker trained in $$(( $$(date +%s) - t )) s"
	@t=$$(date +%s); $(BIN)/whyrec evaluate --data $(DEMO_DATA) --model $(DEMO_MODEL) && echo "[demo] evaluated in $$(( $$(date +%s) - t )) s"
	@t=$$(date +%s); $(BIN)/whyrec recommend --model $(DEMO_MODEL) -k 3 --reasons auto --llm small && echo "[demo] first reasons in $$(( $$(date +%s) - t )) s"
	$(BIN)/whyrec serve --model $(DEMO_MODEL) --llm small

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

# One pytest worker per core; a test file stays on one worker, so its module fixtures (a loaded model, a started
# server) are built once. Each worker builds the session's trained demo model once. Files are handed out longest
# first (tests/conftest.py orders them), not by test count, so no worker is left with a long file at the end.
test: setup lint
	$(BIN)/python -m pytest -q -ra --durations=25 -n auto --dist loadfile --no-loadscope-reorder

bench-ranker: setup
	$(BIN)/python bench/ranker.py --data ../shared/data/amazon-scientific

bench-narrator: models
	$(BIN)/python bench/narrator.py --model $(DEMO_MODEL) --data $(DEMO_DATA)

clean:
	rm -rf $(VENV) .cache data artifacts

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
# llama-cpp-python compiles llama.cpp on install: build only the libraries the binding loads (no multimodal
# library, no "common" utilities; see narrator/backends/llama_cpp_lib_only.cmake), on every core.
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DCMAKE_PROJECT_llama.cpp_INCLUDE=$(CURDIR)/narrator/backends/llama_cpp_lib_only.cmake
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc)
WHEELS := .cache/wheels
# Requirement lines from pyproject.toml (the pins live there only): "deps" for the dependencies, else extras' names.
REQS = $(BIN)/python -c "import sys, tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
	print('\n'.join(r for a in sys.argv[1:] for r in (p['dependencies'] if a == 'deps' else p['optional-dependencies'][a])))"

.PHONY: setup models demo test lint bench-ranker bench-narrator clean

# llama.cpp compiles (every core) while the other dependencies download and unpack (network, disk); the wheel
# it builds lands in $(WHEELS), so a later setup installs it without compiling. The project itself is installed
# once, last, when everything it asks for is there.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@$(REQS) fast > $(VENV)/llama.txt && $(REQS) deps dev model-small > $(VENV)/requirements.txt
	@echo "[setup] building llama.cpp in the background (log: $(VENV)/llama-build.log)"
	@mkdir -p $(WHEELS); t=$$(date +%s); \
	($(BIN)/pip wheel --quiet --no-deps --find-links $(WHEELS) --wheel-dir $(WHEELS) -r $(VENV)/llama.txt \
	    > $(VENV)/llama-build.log 2>&1 && echo "[setup] llama.cpp built in $$(( $$(date +%s) - t )) s") & build=$$!; \
	$(BIN)/pip install --quiet -r $(VENV)/requirements.txt || { pkill -P $$build; exit 1; }; \
	echo "[setup] other dependencies installed in $$(( $$(date +%s) - t )) s"; \
	wait $$build || { cat $(VENV)/llama-build.log; echo "[setup] llama.cpp build failed"; exit 1; }
	$(BIN)/pip install --quiet --find-links $(WHEELS) -e '.[dev,fast,model-small]'
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

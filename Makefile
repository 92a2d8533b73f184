# taktgeber — the two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORLD ?= worlds/demo
PORT ?= 8765
SEED ?= 42

.PHONY: install test demo bench bench-load bench-build bench-build-10m bench-push bench-dashboard sweep-worlds lint clean

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . 2>&1 | { grep -v "is ignored: it is neither" || true; }
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

demo: $(STAMP)
	$(BIN)/python -m taktgeber.demo --world $(WORLD) --port $(PORT) --seed $(SEED)

bench: bench-load bench-build bench-push bench-dashboard

bench-load: $(STAMP)
	$(BIN)/python -m benchmarks.bench_load

BENCH_WORLD ?= /tmp/w1m

# The worlds are generated on first use (1m: ~1.5 min, 10m: ~13 min; docs/generator.md).
bench-build: $(STAMP)
	test -f $(BENCH_WORLD)/answer_key.json || $(BIN)/python -m taktgeber generate --scale 1m --seed 1 --out $(BENCH_WORLD)
	$(BIN)/python -m benchmarks.bench_build --world $(BENCH_WORLD)

# 10m: raw filled straight from the world's JSON (benchmarks/raw_direct.py); one full build, its
# incremental rebuilds and the floor (~20 min on 2 cores).
BENCH_WORLD_10M ?= /tmp/w10m

bench-build-10m: $(STAMP)
	test -f $(BENCH_WORLD_10M)/answer_key.json || $(BIN)/python -m taktgeber generate --scale 10m --seed 1 --out $(BENCH_WORLD_10M)
	$(BIN)/python -m benchmarks.bench_build --world $(BENCH_WORLD_10M) --scale 10m --runs 1 --raw direct

bench-push: $(STAMP)
	$(BIN)/python -m benchmarks.bench_push

bench-dashboard: $(STAMP)
	$(BIN)/python -m benchmarks.bench_dashboard

# worlds the test suite does not build, each against its answer key (~6 s a world): every
# check planted alone, other seeds, rates and as_of dates; then two worlds whose rebuilds
# after five kinds of time-entry edits must equal builds from scratch (~1 min a world)
sweep-worlds: $(STAMP)
	$(BIN)/python -m benchmarks.sweep_worlds --per-check 0.5 --world 4:0 \
		--world 22:0.3@2027-01-01 --world 23@2028-02-29
	$(BIN)/python -m benchmarks.sweep_worlds --narrowed --world 5:0.3 --world 9:1.0

lint: $(STAMP)
	$(BIN)/ruff check taktgeber pipelines tests

clean:
	rm -rf warehouse/*.duckdb worlds .dlt/.pipelines

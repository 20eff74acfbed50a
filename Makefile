# nnderiv — every target sets up what it needs on a fresh machine with only python3.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.nnderiv-installed
NODE   := $(VENV)/node
KATEX  := $(NODE)/node_modules/katex/package.json
PYTEST_ARGS ?=

.PHONY: test soak demo lint typecheck bench corpus extras install clean

# seeds for `make soak`: 20 drawn at random (printed), or SOAK_SEEDS="1 2 3" to replay
SOAK_SEEDS ?= $(shell $(PYTHON) -c "import random; print(*random.sample(range(1, 2**31), 20))")

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# KaTeX and markdown-it (npm registry) render the LaTeX / Markdown printouts in the tests
$(KATEX):
	mkdir -p $(NODE)
	npm install --prefix $(NODE) --no-audit --no-fund --silent katex@0.16 markdown-it@14

install: $(STAMP) $(KATEX)

test: $(STAMP) $(KATEX)
	NNDERIV_NODE_MODULES=$(abspath $(NODE))/node_modules $(BIN)/python -m pytest $(PYTEST_ARGS)

# the property tests of the closed forms and of the error estimates under many random seeds;
# an inconclusive verdict there fails the test. Each failing seed is printed for replay.
soak: $(STAMP)
	@set -e; for seed in $(SOAK_SEEDS); do \
	  echo "soak: seed $$seed"; \
	  NNDERIV_SOAK=1 NNDERIV_TEST_SEED=$$seed HYPOTHESIS_PROFILE=random $(BIN)/python -m pytest -q \
	    -p no:cacheprovider --hypothesis-seed=$$seed tests/test_formulas.py \
	    tests/test_estimates.py || { echo "soak failed at seed $$seed (SOAK_SEEDS=$$seed)"; exit 1; }; \
	done

demo: $(STAMP)
	$(BIN)/nnderiv selfcheck

lint: $(STAMP)
	$(BIN)/ruff check nnderiv tests benchmarks examples conftest.py
	$(BIN)/ruff format --check nnderiv tests benchmarks examples conftest.py

typecheck: $(STAMP)
	$(BIN)/mypy

# the optional extras (torch, jax, scipy): the peers in the benchmarks, and the autodiff corpus
# (tests/test_corpus.py skips without torch)
extras: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]' || echo "bench extras (torch, jax, scipy) not installable; peers are skipped"
	$(BIN)/python benchmarks/run.py

# the autodiff corpus (benchmarks/corpus) through nnderiv, torch gradcheck and jax check_grads
corpus: extras
	$(BIN)/python benchmarks/corpus/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist *.egg-info

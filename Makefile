# tierlens: the two commands.
#   make demo   set up everything (virtualenv, install), then simulate the bundled demo data,
#               ingest, score and derive it, publish it, and serve the dashboard
#   make test   set up everything, then run the whole test suite (what CI runs)
# Everything else is the `tierlens` CLI inside .venv (see README.md).

PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export DO_NOT_TRACK := 1

.PHONY: demo test test-fast setup browser clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch==2.13.0 is pinned in pyproject: it installs from the local CPU wheel
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's chromium for the end-to-end browser test (Playwright can't download its own).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

demo: setup
	$(BIN)/tierlens demo

# the whole suite, slow model-quality and crash tests included (about 6 minutes on 2 cores)
test: setup browser
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=15

# everything but the tests marked slow (about 3 minutes)
test-fast: setup browser
	$(BIN)/python -m pytest -q -m "not slow" -p no:cacheprovider

clean:
	rm -rf data/warehouse data/serving data/demo data/inbox data/cache

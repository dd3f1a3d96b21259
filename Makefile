# Two commands on a fresh machine:  make run   and   make test
# Everything else here is what those two need.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
CORPUS    ?= process_data/demo/demo_corpus.csv
NODE_DIR  := django_app/node_modules
# Rasa 3.6 needs Python 3.10: the first candidate that really runs as 3.10
# (on PATH, pyenv's versions, /usr/local); override with PYTHON310=/path/to/python3.10.
PY310_CANDIDATES = python3.10 $$(pyenv root 2>/dev/null)/versions/3.10*/bin/python $$HOME/.pyenv/versions/3.10*/bin/python /usr/local/bin/python3.10
ifeq ($(origin PYTHON310), undefined)
PYTHON310 := $(shell for c in $(PY310_CANDIDATES); do \
  "$$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1 && { command -v "$$c"; break; }; done)
endif
export RASA_TELEMETRY_ENABLED := false

.PHONY: help run run-bots run-study build review-train test test-unit lint system-deps clean distclean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: $(VENV)/.installed $(NODE_DIR)/.installed  ## convert the corpus, train if needed, serve, print the URL
	$(PY) -m launcher run --corpus "$(CORPUS)"

run-bots: $(VENV)/.installed $(NODE_DIR)/.installed  ## two Rasa bots (default, logistic regression) + a scripted bot; one URL each
	$(PY) -m launcher run-bots --corpus "$(CORPUS)"

run-study: $(VENV)/.installed $(NODE_DIR)/.installed  ## run-bots with a demo study (STUDY=file.yml for another); prints the participant and admin links
	$(PY) -m launcher run-study --corpus "$(CORPUS)" $(if $(STUDY),--study "$(STUDY)")

build: $(VENV)/.installed  ## convert the corpus and train if needed, without serving
	$(PY) -m launcher build --corpus "$(CORPUS)"

review-train: $(VENV)/.installed  ## retrain with the review inbox's corrections; accuracy on the reviewed messages before/after
	$(PY) -m launcher.review_train --corpus "$(CORPUS)"

test: $(VENV)/.installed $(NODE_DIR)/.installed system-deps  ## the whole suite, as CI runs it (lint included)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: $(VENV)/.installed  ## only the fast tests (no servers, no browser)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

lint: $(VENV)/.installed  ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

$(VENV)/.installed: requirements.txt requirements_rasa.txt pyproject.toml
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "error: Python 3.10 is needed (Rasa 3.6 supports 3.8-3.10) and none was found."; \
	  echo "Install it (for example: pyenv install 3.10.13) or run: make PYTHON310=/path/to/python3.10 ..."; \
	  exit 1; fi
	@$(PYTHON310) -c 'import sys; assert sys.version_info[:2] == (3, 10), sys.version' \
	  || { echo "error: $(PYTHON310) is not Python 3.10"; exit 1; }
	@echo "creating $(VENV) with $(PYTHON310) and installing the locked dependencies (a few minutes, once)…"
	$(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check pip==24.2
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@# the project itself, editable: one import root (rasa_bot.…, process_data.…) for Rasa, tests and tools
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	@touch $@

$(NODE_DIR)/.installed: django_app/package.json django_app/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm is needed to fetch the chat widget's socket.io client (apt-get install npm)"; exit 1; }
	cd django_app && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Debian's Chromium for the browser tests (Playwright drives it; it downloads no browser of its own).
system-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else echo "note: /usr/bin/chromium is missing, so the browser tests will be skipped (apt-get install chromium)"; fi; \
	fi

clean:  ## remove run logs, test artifacts and caches (keeps .venv, models and .env)
	rm -rf .run test-artifacts .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -prune -exec rm -rf {} +

distclean: clean  ## also remove .venv, node_modules, trained models and generated training data
	rm -rf $(VENV) $(NODE_DIR) .cache rasa_bot/models rasa_bot/data/nlu.yml rasa_bot/data/rules.yml rasa_bot/domain/generated.yml

# --- rasa_bot (issue 4): NLU figures, evaluation, business database ---------------------------
.PHONY: bench-nlu evaluate db
# Public intent benchmarks (Banking77, CLINC150...), one folder each with train.csv and test.csv; never in the repo.
NLU_DATASETS ?= ../nlu-datasets
bench-nlu: $(VENV)/.installed  ## NLU configs on Bitext + the benchmarks in NLU_DATASETS vs a baseline; bench/results/nlu.md
	$(PY) bench/bench_nlu.py $(if $(wildcard $(NLU_DATASETS)/*/train.csv),--datasets "$(NLU_DATASETS)")

evaluate: $(VENV)/.installed  ## rasa test nlu on the held-out split: report, errors, confusion matrix in bench/results/evaluate/
	$(PY) bench/evaluate.py

db: $(VENV)/.installed  ## create the orders database's schema and demo data (ACTIONS_DATABASE_URL; RESET=1 drops it first)
	$(PY) -m rasa_bot.actions.services $(if $(RESET),--reset)

# --- notebook and scale-out (issue 6) -----------------------------------------------------------
NB_VENV := .cache/notebook-venv
.PHONY: notebook bench-scale
notebook: $(VENV)/.installed $(NB_VENV)/.installed  ## Jupyter on jupyter/walkthrough.ipynb (127.0.0.1:8888, no browser; kernel = .venv)
	$(PY) -m ipykernel install --prefix $(NB_VENV) --name python3 --display-name "Python 3 (rasa-webchat .venv)" >/dev/null 2>&1
	$(NB_VENV)/bin/jupyter notebook --ServerApp.ip=127.0.0.1 --ServerApp.port=$${NOTEBOOK_PORT:-8888} \
	  --no-browser --ServerApp.root_dir=jupyter $(if $(filter 0,$(shell id -u)),--allow-root) jupyter/walkthrough.ipynb

# The Jupyter server lives in its own venv: its packages need a newer `packaging` than Rasa 3.6 allows.
$(NB_VENV)/.installed: jupyter/requirements-server.txt
	python3 -m venv $(NB_VENV)
	$(NB_VENV)/bin/pip install -q --disable-pip-version-check -r jupyter/requirements-server.txt
	@touch $@

bench-scale: $(VENV)/.installed  ## throughput with 1 and 2 Rasa instances on Postgres + Redis; bench/results/scale.md
	$(PY) bench/bench_scale.py

# --- converter and serving figures ----------------------------------------------------------------
.PHONY: bench-convert bench-load bench-turns bench-history bench-retrieval
bench-convert: $(VENV)/.installed  ## 1,000,000-row CSV through the converter CLI; bench/results/convert.md
	$(PY) bench/bench_convert.py

bench-load: $(VENV)/.installed  ## socket.io load, project channel vs stock Rasa; bench/results/load.md (about 30 min)
	$(PY) bench/bench_load.py

bench-turns: $(VENV)/.installed  ## what a turn costs by kind (answers, custom actions, forms); bench/results/turns.md
	$(PY) bench/bench_turns.py

bench-history: $(VENV)/.installed  ## per-message time after 10, 50, 200 messages, before/after; bench/results/history.md
	$(PY) bench/bench_history.py

bench-retrieval: $(VENV)/.installed  ## past answers: held-out evaluation, threshold trade-off, 100,000-pair speed; bench/results/retrieval.md
	$(PY) bench/bench_retrieval.py

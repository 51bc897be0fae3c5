# Smart Panchayat: `make run` to talk to the assistant, `make test` to test everything,
# `make test-fast` for the quick tests while editing, `make lint` for style and types.
SHELL := /bin/bash
PY := .venv/bin/python
RASA := .venv/bin/rasa

# Quiet the libraries' own deprecation chatter; Rasa's data warnings stay visible.
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONWARNINGS := ignore::DeprecationWarning
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: setup run serve simulator production chat train validate db lint test test-fast pytest test-stories evaluate-nlu \
	nlu-heldout conversations bench

setup:
	@bash scripts/setup.sh

## The assistant with a terminal chat (SQLite, demo data, trained model).
run: setup train db
	@$(PY) scripts/stack.py run

## Servers only (REST always; WhatsApp when WHATSAPP_* is set), for operators and scripts.
serve: setup train db
	@$(PY) scripts/stack.py serve

## The servers with WhatsApp on, plus a WhatsApp-like chat page at http://localhost:8090 (SIMULATOR_PORT).
simulator: setup train db
	@$(PY) scripts/stack.py simulator

## The production set-up on this machine: PostgreSQL tracker store, Redis locks, nginx in front
## of several Rasa and action servers (docs/production.md; needs nginx: apt-get install nginx-light).
production: setup train
	@$(PY) scripts/production.py start --rasa 2 --actions 1

## A terminal chat against servers that already run.
chat: setup
	@$(PY) scripts/chat.py

train: setup
	@bash scripts/train.sh

## Create or migrate the database; load demo data into an empty one.
db: setup
	@$(PY) scripts/stack.py db

validate: setup
	$(RASA) data validate --fail-on-warnings

## Lint: ruff's rules, ruff's formatting and mypy's types, over the assistant's packages
## (configured in pyproject.toml). This only checks; `.venv/bin/ruff format PATH` and
## `.venv/bin/ruff check --fix PATH` rewrite.
LINTED := panchayat actions connectors nlu console
lint: setup
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)
	$(PY) -m mypy $(LINTED)

pytest: setup
	$(PY) -m pytest -q tests

## The fast tests alone, for the edit-test loop: everything but the tests marked `servers`
## (those start the Rasa and action servers, the simulator or a browser), no trained model needed.
test-fast: setup
	$(PY) -m pytest -q -m "not servers" tests

test-stories: setup train
	$(RASA) test core --stories tests/stories --fail-on-prediction-errors --out results/stories

## Everything CI runs; lint first, so that a lint error fails in seconds, not after training.
# The NLU gate is the held-out macro-F1 (nlu-heldout). The 5-fold cross-validation of
# evaluate-nlu is for trainers' reports: at 30-40 minutes on 2 cores it would put CI near its
# 90-minute limit, so CI leaves it out.
test: setup lint validate train pytest test-stories nlu-heldout

## NLU: held-out test, 5-fold cross-validation, docs/nlu-report.md and the macro-F1 gate.
evaluate-nlu: setup train
	PYTHONPATH=. $(PY) scripts/evaluate_nlu.py

nlu-heldout: setup train
	PYTHONPATH=. $(PY) scripts/evaluate_nlu.py --skip-cv --no-report

## Retrain behind the gate: a candidate model, held-out gate and test stories, a before/after report
## in results/retrain/report.md; it becomes models/panchayat.tar.gz only when both pass.
retrain: setup
	PYTHONPATH=. $(PY) scripts/retrain.py

## Whole villager conversations through the WhatsApp channel (also part of pytest), with the
## success table by service and register in results/conversations.md.
conversations: setup train
	$(PY) scripts/conversations.py

## Load benchmark, ours (embedded default, scripts/stack.py serve) against a stock `rasa init`
## assistant in the same run (REST, 1 and 20 users), then the production stack through WhatsApp
## at 40 msg/s: var/bench/report-<tag>.md, about 7 minutes. Not part of `make test`;
## docs/benchmark.md ("make bench").
bench: setup train
	@$(PY) scripts/bench.py --whatsapp

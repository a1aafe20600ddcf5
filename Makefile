# Two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints-dev.txt | cksum | cut -d' ' -f1)
# The Qt-free packages' tests (cache, jobs, domain, database): `make test-fast`, no GUI tests.
FAST_TESTS := tests/cache tests/jobs tests/purplecross_desktop/domain tests/purplecross_desktop/database tests/test_tooling.py

.PHONY: run test test-fast lint format typecheck check bench gallery export-gallery baselines migration clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11+ is needed: install python3.11 (Debian/Ubuntu: apt-get install python3.11 python3.11-venv) or run 'make PYTHON=python3.12 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints-dev.txt
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c constraints-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

## make run: set up and start the app on the embedded default (SQLite, no server needed).
## The set-up installs the system libraries Qt's X11 plugin lacks (apt-get, as root or with
## passwordless sudo) or prints the commands; with no display it says how to run instead.
run: $(STAMP)
	@$(BIN)/python -m purplecross_desktop.preflight --run-command "make run"
	$(BIN)/purplecross run

## make test: set up and pass the whole suite (starts its own redis-server, real SMTP, SQLite, PostgreSQL when there).
test: $(STAMP)
	@scripts/ensure-redis-server
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

## make test-fast: the tests of the Qt-free packages only (cache, jobs, domain, database, tooling).
test-fast: $(STAMP)
	@scripts/ensure-redis-server
	$(BIN)/python -m pytest -m "not gui" $(wildcard $(FAST_TESTS)) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

bench: $(STAMP)
	@scripts/ensure-redis-server
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m benchmarks

gallery: $(STAMP)
	$(BIN)/purplecross gallery

## make export-gallery: render every story (light and dark) to build/gallery with an index.html.
export-gallery: $(STAMP)
	$(BIN)/purplecross gallery --export build/gallery

## make baselines: regenerate the gallery's visual-regression baselines (then look and commit).
baselines: $(STAMP)
	$(BIN)/purplecross gallery --update-baselines

## make migration m="what changed": write the next migration for what the models have and
## the migrations lack (a throwaway SQLite database at head, autogenerate, 000N_slug, ruff).
migration: $(STAMP)
	@test -n "$(m)" || { echo 'say what changed: make migration m="patient coat length"'; exit 2; }
	$(BIN)/python -m purplecross_desktop.cli db revision -m "$(m)"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install lint format translations catalogues migrate seed bench clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

## The exact versions of every dependency (refresh with `make lock`).
LOCK := requirements.lock

$(STAMP): $(BIN)/python pyproject.toml $(LOCK)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## Resolve pyproject.toml's dependencies (and dev extras) again into requirements.lock,
## keeping the pinned versions that still fit; `make lock LOCK_FLAGS=--upgrade` takes
## the newest allowed releases.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
	  --no-header --annotation-style line $(LOCK_FLAGS) -o $(LOCK)

install: $(STAMP) translations

## A random secret key, made once for this machine (SECRET_KEY in the environment wins).
SECRET_KEY_FILE := instance/secret_key
$(SECRET_KEY_FILE):
	mkdir -p $(dir $@)
	umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(48))" > $@

## Compile the zh_CN and en catalogues (the .mo files are build output).
translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d translations

## Re-extract messages and update both catalogues after changing strings.
catalogues: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -o translations/messages.pot --no-location --sort-output --omit-header .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching
	$(BIN)/python scripts/fill_en_catalogue.py

migrate: install $(SECRET_KEY_FILE)
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) portal seed-demo --if-empty

run: seed
	$(FLASK) run --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
test: install lint
	$(BIN)/python -m pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
	  PORTAL_TEST_BACKEND=postgresql $(BIN)/python -m pytest; \
	fi

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) instance test-output .pytest_cache .ruff_cache

# Two commands: `make run` and `make test`. Everything else is a step they depend on.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint format bench bench-load bench-reports bench-search bench-api bench-import clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The stamp files re-install when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

# A random secret key for this machine, kept out of git in instance/: readable by this user
# only (the directory 0700 when made here, the file 0600 whatever the umask).
instance/config.py:
	mkdir -p -m 700 instance
	umask 077 && $(BIN)/python -c "import secrets; print(f'SECRET_KEY = {secrets.token_hex(32)!r}')" > $@

run: $(VENV)/.installed instance/config.py
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo "Postmortems is running at http://$(HOST):$(PORT)/ (Ctrl+C stops it)"
	$(FLASK) run --host $(HOST) --port $(PORT)

# The suite runs on SQLite; when TEST_DATABASE_URL names a PostgreSQL database it runs
# again on that database.
test: lint
	$(BIN)/pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		TEST_DATABASE_BACKEND=postgresql $(BIN)/pytest -q; \
	fi

# Every page's throughput as admin and reader, as a ratio to /healthz measured beside it, at
# 1,000, 10,000 and 100,000 postmortems under gunicorn (issue 7). Needs `ab` (apache2-utils).
# The databases are generated once into .bench-cache/; BENCH_SIZES=1000,10000 picks sizes.
# Both methods by default: BENCH_ARGS="--method outside" (issue 18's) or "--method own".
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.pages $(BENCH_ARGS)

# Report figures in process, computed cold, at 1,000, 10,000 and 100,000 postmortems: the
# trend report (all and one team), a quarterly review, the list by stage against the list, and
# the raw SQL count per quarter and category as the floor (issue 9). BENCH_SIZES picks sizes.
bench-reports: $(VENV)/.installed-test
	$(BIN)/python -m bench.reports

# Search, similar postmortems and the filing form, in-process (BENCH_SIZES=1000 for a quick look).
bench-search: $(VENV)/.installed-test
	$(BIN)/python -m bench.search

# Import of the 281 public records in ../shared/datasets (target: under 5 s).
bench-import: $(VENV)/.installed-test
	$(BIN)/python -m bench.imports $(BENCH_IMPORT_ARGS)

# 20 clients file postmortems and add parts through the forms under gunicorn for 30 s, then
# every acknowledged write is looked up in the database; fails on a lost write or a 5xx.
# Runs again on PostgreSQL when BENCH_DATABASE_URL names a server (the role needs CREATEDB).
bench-load: $(VENV)/.installed-test
	$(BIN)/python -m bench.load --database $(if $(BENCH_DATABASE_URL),all,sqlite) $(BENCH_LOAD_ARGS)

# Half of 20 clients file whole postmortems through the JSON API (tokens) while the others read
# postmortem pages and /healthz, for 30 s under gunicorn; then every acknowledged write is
# looked up in the database with its parts. Fails on a lost or partial write or a 5xx.
bench-api: $(VENV)/.installed-test
	$(BIN)/python -m bench.api_load --database $(if $(BENCH_DATABASE_URL),all,sqlite) $(BENCH_API_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache

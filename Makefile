# The two commands of the README: `make run` and `make test`. Both start from a clean clone with
# only Python 3.11+ on the machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export FLASK_APP := run.py
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test lint format translations translations-extract migrate-db demo clean help

help:
	@echo "make run    install, migrate, load demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test   run the whole test suite (TEST_DATABASE_URL selects the database)"
	@echo "make lint   ruff"

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

install: $(BIN)/activate translations

translations: $(BIN)/activate
	$(BIN)/pybabel compile -d translations --statistics

# Refresh translations/messages.pot and merge new strings into the catalogues (then translate them).
translations-extract: $(BIN)/activate
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o translations/messages.pot app config.py
	$(BIN)/pybabel update -N -i translations/messages.pot -d translations

migrate-db: $(BIN)/activate translations
	$(BIN)/flask db upgrade
	$(BIN)/flask security sync

demo: migrate-db
	$(BIN)/flask seed-demo

# The web server and, beside it, the worker that runs the uploads of 批量导入 (huey; see
# docs/operations.md). Ctrl+C stops both.
run: demo
	@echo "Serving on http://$(HOST):$(PORT) with the import worker  (Ctrl+C stops both)"
	$(BIN)/huey_consumer app.directory.queue.huey --workers 1 --max-delay 1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: $(BIN)/activate translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/activate
	$(BIN)/ruff check .

format: $(BIN)/activate
	$(BIN)/ruff format app tests config.py run.py
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) translations/*/LC_MESSAGES/*.mo

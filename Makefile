# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := static/vendor/socket.io/socket.io.min.js
MO := retro/translations/nl/LC_MESSAGES/messages.mo
export FLASK_APP := app.py

.PHONY: run test install vendor translations lint format typecheck clean \
        test-unit test-live test-browser test-postgres messages bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) $(VENDOR) $(MO)

# The socket.io browser client, from the npm registry at the version pinned in package-lock.json.
$(VENDOR): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor/socket.io
	cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/socket.io/
	cp node_modules/socket.io-client/dist/socket.io.min.js.map static/vendor/socket.io/
	cp node_modules/socket.io-client/LICENSE static/vendor/socket.io/LICENSE
	node -e 'console.log(require("socket.io-client/package.json").version)' > static/vendor/socket.io/VERSION

vendor: $(VENDOR)

$(MO): retro/translations/nl/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d retro/translations

translations: $(MO)

# Re-extract every translatable string and merge it into the catalogues.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o retro/translations/messages.pot .
	$(BIN)/pybabel update -i retro/translations/messages.pot -d retro/translations --no-fuzzy-matching --ignore-obsolete

run: install
	RETRO_ENV=$${RETRO_ENV:-development} $(BIN)/flask db upgrade
	RETRO_ENV=$${RETRO_ENV:-development} $(BIN)/python app.py

# The PostgreSQL server of the tests. Its database `postgres` is only where a run connects
# to create a database of its own there (dropped afterwards).
RETRO_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
export RETRO_TEST_POSTGRES_URL
# What `make test` runs a second time with DATABASE_URL naming that server: the in-process
# suite. The migration and async-mode tests use PostgreSQL in the first run already.
POSTGRES_TESTS ?= --ignore=tests/live --ignore=tests/browser \
                  --ignore=tests/test_migrations.py --ignore=tests/test_postgres.py

# The whole suite on SQLite, then the in-process suite on PostgreSQL if it answers (it must
# when RETRO_REQUIRE_SERVICES=1), then the coverage of both runs together.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/coverage erase
	env -u DATABASE_URL $(BIN)/python -m pytest -p no:cacheprovider \
	  --cov --cov-append --cov-report= $(PYTEST_ARGS)
	@if $(BIN)/python -m tests.postgres "$(RETRO_TEST_POSTGRES_URL)"; then \
	  echo "== the in-process suite again, on PostgreSQL at $(RETRO_TEST_POSTGRES_URL)"; \
	  DATABASE_URL="$(RETRO_TEST_POSTGRES_URL)" $(BIN)/python -m pytest -p no:cacheprovider \
	    --cov --cov-append --cov-report= $(POSTGRES_TESTS) $(PYTEST_ARGS); \
	elif [ "$$RETRO_REQUIRE_SERVICES" = 1 ]; then \
	  echo "RETRO_REQUIRE_SERVICES=1 but no PostgreSQL answers at $(RETRO_TEST_POSTGRES_URL)" >&2; \
	  exit 1; \
	else \
	  echo "== no PostgreSQL answers at $(RETRO_TEST_POSTGRES_URL): the suite ran on SQLite only"; \
	fi
	$(BIN)/coverage report --skip-covered

# The in-process suite on PostgreSQL only (it must answer).
test-postgres: install
	DATABASE_URL="$(RETRO_TEST_POSTGRES_URL)" $(BIN)/python -m pytest $(POSTGRES_TESTS) $(PYTEST_ARGS)

test-unit: install
	$(BIN)/python -m pytest -m "not live and not browser" $(PYTEST_ARGS)

test-live: install
	$(BIN)/python -m pytest -m live $(PYTEST_ARGS)

test-browser: install
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

# The load benchmark (bench/run.py): Retro against bare python-socketio and Node socket.io.
# Writes bench/results/; about 6 minutes. BENCH_ARGS="--quick" or "--help" for less.
bench: install
	$(BIN)/pip install --quiet -r bench/requirements.txt
	cd bench/node && npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules static/vendor test-artifacts .coverage

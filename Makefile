# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := static/vendor/socket.io/socket.io.min.js
MO := retro/translations/nl/LC_MESSAGES/messages.mo
export FLASK_APP := app.py

.PHONY: run test install vendor translations lint format typecheck clean \
        test-unit test-live test-browser messages

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
	$(BIN)/pybabel update -i retro/translations/messages.pot -d retro/translations --no-fuzzy-matching

run: install
	RETRO_ENV=$${RETRO_ENV:-development} $(BIN)/flask db upgrade
	RETRO_ENV=$${RETRO_ENV:-development} $(BIN)/python app.py

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -p no:cacheprovider --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

test-unit: install
	$(BIN)/python -m pytest -m "not live and not browser" $(PYTEST_ARGS)

test-live: install
	$(BIN)/python -m pytest -m live $(PYTEST_ARGS)

test-browser: install
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

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

# One entry point for the whole suite. `make run` and `make test` install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
DEPLOYABLES := services/common services/crm services/registry-lookup services/credit-monitor services/mailer services/export gateway
HTMX := gateway/gateway/static/vendor/htmx.min.js
STAMP := $(VENV)/.installed-$(shell cat $(addsuffix /pyproject.toml,$(DEPLOYABLES)) tests/requirements.txt 2>/dev/null | md5sum | cut -c1-12)

.PHONY: install i18n i18n-update run test test-fast bench clean help

help:
	@echo "make run    - install, migrate, bootstrap and start the suite on http://127.0.0.1:$${GATEWAY_PORT:-8000}"
	@echo "make test   - install, make sure RabbitMQ/PostgreSQL are up, run every test layer"
	@echo "make bench  - generate a dataset and run the benchmarks (BENCH_COMPANIES=100000)"

install: $(STAMP) $(HTMX) i18n

# issue 14: the gateway's catalogs. Extract every marked string (templates and Python) into the .pot,
# then compile each language's .po to the .mo Flask-Babel reads (the .mo files are never committed).
# `make i18n-update` merges new strings into every .po for translating (README: How to add a language).
I18N := gateway/gateway/translations
PYBABEL_EXTRACT := $(BIN)/pybabel -q extract -F gateway/babel.cfg -k _l -k lazy_gettext -k N_ --omit-header --sort-output --add-location=file

i18n: $(STAMP)
	$(PYBABEL_EXTRACT) -o $(I18N)/messages.pot gateway/gateway
	$(BIN)/pybabel -q compile -d $(I18N)

i18n-update: $(STAMP)
	$(PYBABEL_EXTRACT) -o $(I18N)/messages.pot gateway/gateway
	$(BIN)/pybabel -q update --no-fuzzy-matching -w 120 -i $(I18N)/messages.pot -d $(I18N)

$(STAMP):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip "setuptools>=68,<81" wheel
	$(PY) -m pip install -q $(foreach d,$(DEPLOYABLES),-e ./$(d)[dev]) -r tests/requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

# npm installs htmx (served) and axe-core (a devDependency: only the browser tests' accessibility audit
# injects it; the Dockerfile's `npm ci --omit=dev` leaves it out). The stamp re-runs npm when either file changes.
NPM_STAMP := gateway/node_modules/.installed

$(NPM_STAMP): gateway/package.json gateway/package-lock.json
	cd gateway && npm install --no-audit --no-fund --silent
	@touch $@

$(HTMX): $(NPM_STAMP)
	mkdir -p $(dir $(HTMX))
	cp gateway/node_modules/htmx.org/dist/htmx.min.js $(HTMX)

run: install
	$(PY) deploy/run.py

test: install
	$(PY) tests/run_all.py

bench: install
	$(PY) -m tests.bench

clean:
	rm -rf $(VENV) gateway/node_modules $(dir $(HTMX)) var/test

# One entry point for the whole suite. `make run` and `make test` install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
DEPLOYABLES := services/common services/crm services/registry-lookup services/credit-monitor services/mailer services/export gateway
HTMX := gateway/gateway/static/vendor/htmx.min.js
STAMP := $(VENV)/.installed-$(shell cat $(addsuffix /pyproject.toml,$(DEPLOYABLES)) tests/requirements.txt 2>/dev/null | md5sum | cut -c1-12)

.PHONY: install run test test-fast bench clean help

help:
	@echo "make run    - install, migrate, bootstrap and start the suite on http://127.0.0.1:$${GATEWAY_PORT:-8000}"
	@echo "make test   - install, make sure RabbitMQ/PostgreSQL are up, run every test layer"
	@echo "make bench  - generate a dataset and run the benchmarks (BENCH_COMPANIES=100000)"

install: $(STAMP) $(HTMX)

$(STAMP):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip "setuptools>=68,<81" wheel
	$(PY) -m pip install -q $(foreach d,$(DEPLOYABLES),-e ./$(d)[dev]) -r tests/requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

$(HTMX): gateway/package.json
	cd gateway && npm install --no-audit --no-fund --silent
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

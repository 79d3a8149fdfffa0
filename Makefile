# The two commands of the README are `make run` and `make test`; everything
# they need is installed by the targets below, from nothing but Python 3.11.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

# `make run` is for a laptop: debug on, console email, SQLite unless DATABASE_URL is set.
RUN_ENV := DEBUG=$${DEBUG:-true}
# Tests run with production defaults (DEBUG off) and a throwaway key.
TEST_ENV := SECRET_KEY=$${SECRET_KEY:-test-only-secret-key} SECURE_SSL_REDIRECT=false

.PHONY: help install pdf-deps node-deps browser-deps frontend run migrate demo test test-quick lint format bench clean

help:
	@echo "make run         install, migrate, load the demo council and serve http://127.0.0.1:$(PORT)"
	@echo "make test        install and run the whole test suite"
	@echo "make test-quick  the suite without the slow (browser and load) tests"
	@echo "make lint        ruff and the migrations check"
	@echo "make bench       run every benchmark in benchmarks/"
	@echo "make frontend    build the public pages' CSS and JavaScript from GOV.UK Frontend"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed: install python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)

# Debian packages beyond Python: Pango and a font for PDF receipts (WeasyPrint), and
# Chromium for the browser tests (Playwright's own browser download cannot reach its
# servers from here). Installed when missing and run as root; otherwise the command
# to run is printed, PDF receipts fail with a clear error and the browser tests skip
# (under CI=true they fail instead).
define apt_ensure
	@missing=""; for package in $(1); do \
		dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" \
			|| missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
		else \
			echo "Missing Debian packages; installing them needs root:"; \
			echo "  sudo apt-get install$$missing"; \
		fi; \
	fi
endef

pdf-deps:
	$(call apt_ensure,libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)

# From npm: GOV.UK Frontend and Sass (the public pages' styles, `make frontend`),
# axe-core (accessibility checks), Prism (a mock of GOV.UK Pay's API from its
# published spec) and oidc-provider (a real OpenID Connect provider for the single
# sign-on tests). npm ci writes node_modules/.package-lock.json: it is the stamp of
# the last install.
node-deps:
	@command -v npm >/dev/null || { echo "npm is needed: install Node.js 18 or later (sudo apt-get install nodejs npm)"; exit 1; }
	@if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		npm ci --no-audit --no-fund && touch node_modules/.package-lock.json; \
	fi

browser-deps: pdf-deps node-deps
	$(call apt_ensure,chromium)

# The public pages' CSS, compiled by Sass from GOV.UK Frontend and the project's own
# SCSS, and GOV.UK Frontend's JavaScript beside it; built files are not committed.
# The stamp makes it rebuild only when an input changes: the SCSS, or the npm
# packages (a new package-lock.json).
FRONTEND_SRC := backoffice/branding/scss
FRONTEND_OUT := backoffice/branding/static/branding
FRONTEND_STAMP := $(FRONTEND_OUT)/.built
GOVUK_FRONTEND := node_modules/govuk-frontend/dist/govuk

$(FRONTEND_STAMP): $(wildcard $(FRONTEND_SRC)/*.scss) package-lock.json | node-deps
	node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps \
		--silence-deprecation=import --load-path=node_modules \
		$(FRONTEND_SRC)/portal.scss $(FRONTEND_OUT)/portal.css
	cp $(GOVUK_FRONTEND)/govuk-frontend.min.js $(GOVUK_FRONTEND)/govuk-frontend.min.js.map \
		$(FRONTEND_OUT)/
	@touch $@

frontend: $(FRONTEND_STAMP)

migrate: install pdf-deps
	@mkdir -p var
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput

demo: migrate frontend
	$(RUN_ENV) $(BIN)/python manage.py load_demo --admin-url http://127.0.0.1:$(PORT)/admin/

run: demo frontend
	$(RUN_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install browser-deps frontend
	$(TEST_ENV) $(BIN)/python -m pytest

test-quick: install browser-deps frontend
	$(TEST_ENV) $(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	@for bench in benchmarks/bench_*.py; do \
		[ -e "$$bench" ] || { echo "no benchmarks yet"; break; }; \
		$(TEST_ENV) $(BIN)/python "$$bench" || exit 1; \
	done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
	rm -f $(FRONTEND_OUT)/portal.css $(FRONTEND_OUT)/govuk-frontend.min.js* $(FRONTEND_STAMP)

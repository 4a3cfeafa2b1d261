# OpsDesk: the README's commands. Needs only python3 (>= 3.11); everything else goes in .venv.
#   make run            set up, migrate, load demo data once, serve http://127.0.0.1:8000
#   make test           the whole test suite on SQLite
#   make test-postgres  the same suite on PostgreSQL (127.0.0.1:5432, user postgres)
#   make lint           ruff check, ruff format --check, mypy
#   make bench          the ticket-core benchmark (bench/README.md), figures to bench/RESULTS.md

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OPSDESK := $(BIN)/opsdesk
BIND ?= 127.0.0.1:8000
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/opsdesk
PYTEST_ARGS ?=
BENCH_ARGS ?=
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet

.PHONY: run test test-postgres lint bench venv venv-dev messages migrate demo clean-venv

# Stamp files: a second `make` is instant; a changed pyproject.toml reinstalls.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "OpsDesk needs Python 3.11 or newer as '$(PYTHON)' (try: make PYTHON=python3.11 ...)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create $(VENV). On Debian/Ubuntu: sudo apt-get install python3-venv"; \
	  rm -rf $(VENV); exit 1; }
	$(PIP) install --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(PIP) install -e ".[dev]"
	@touch $@ $(VENV)/.installed

venv: $(VENV)/.installed
venv-dev: $(VENV)/.installed-dev

# Korean translations: .mo files are built here, never committed. Needs GNU gettext.
messages: $(VENV)/.installed
	@command -v msgfmt >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext; \
	  else \
	    echo "msgfmt (GNU gettext) is missing. Install it: sudo apt-get install gettext" \
	         "(Debian/Ubuntu), brew install gettext (macOS), sudo dnf install gettext (Fedora)"; \
	    exit 1; \
	  fi; }
	$(OPSDESK) compilemessages --ignore=$(VENV) --ignore=node_modules -v0

migrate: $(VENV)/.installed
	$(OPSDESK) migrate --noinput -v1

# Demo data only into a database without tickets, so a second `make run` keeps your data.
demo: migrate
	@if [ "$$($(OPSDESK) shell --no-imports -c 'from opsdesk.tickets.models import Ticket; print(Ticket.objects.exists())')" = "False" ]; then \
	  $(OPSDESK) demo; \
	else \
	  echo "Tickets exist already; not loading demo data."; \
	fi

run: venv messages demo
	$(OPSDESK) run --bind $(BIND) --no-migrate

# pytest exit code 5 means "no tests collected": not a failure for a filtered run.
test: venv-dev messages
	$(BIN)/pytest $(PYTEST_ARGS) || [ $$? -eq 5 ]

test-postgres: venv-dev messages
	OPSDESK_DATABASE_URL=$(POSTGRES_URL) $(BIN)/pytest $(PYTEST_ARGS) || [ $$? -eq 5 ]

# The ticket-core benchmark (bench/README.md); appends its figures to bench/RESULTS.md.
bench: venv-dev messages
	$(BIN)/python bench/tickets.py --results bench/RESULTS.md $(BENCH_ARGS)

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean-venv:
	rm -rf $(VENV)

# Easy Travels API: run, demo and test the service (GNU make; needs only python3 3.11+).
#
#   make run           install the runtime only, migrate + seed the demo data + serve on
#                      http://127.0.0.1:5000, with localstripe (card payments) on :8420
#   make test          lint + the test suite on SQLite           (PYTEST_ARGS="-k seed -x")
#                      (browser tests too when Chromium and the dashboard packages
#                      can be installed; otherwise one line says they were skipped)
#   make test-pg       the test suite on PostgreSQL       (TEST_DATABASE_URL=...)
#   make walkthrough   a live server on a fresh database + examples/walkthrough.py
#   make openapi       export the served OpenAPI spec to docs/openapi.json
#   make postman       rebuild docs/postman/ from docs/openapi.json
#   make newman        a live server on a fresh database + the whole Postman collection (newman)
#   make client-check  generate a Python client from docs/openapi.json + run a scenario live
#   make fuzz-short    a live server on a fresh database + a bounded schemathesis pass (CI)
#   make fuzz          the same, long pass (>= 1000 requests; see scripts/fuzz.py)
#   make serve         gunicorn (gunicorn.conf.py), APP_CONFIG=production, DATABASE_URL;
#                      beside it `make worker` (Celery workers, any number) and ONE
#                      `make beat` (the schedule), all on CELERY_BROKER_URL (Procfile)
#   make drill         PostgreSQL restart drill: private cluster + gunicorn under load
#   make bench-load    load + scale bench vs the goals: service vs bare Flask, 1k and 1M
#                      rows, medians of 3; writes the tables into docs/benchmarks.md (~10 min)
#   make dashboard     rebuild the staff dashboard (dashboard/web -> dashboard/static, npm)
#   make test-browser  the dashboard's browser tests only (Debian's Chromium + Playwright)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.dev-installed
RUN_STAMP := $(VENV)/.run-installed
CHROMIUM := /usr/bin/chromium
# The staff dashboard's sources and pinned npm packages (Vite, Chart.js, axe-core,
# ESLint, Prettier); the built files are committed in dashboard/static.
DASHBOARD_WEB := dashboard/web
DASHBOARD_STAMP := $(DASHBOARD_WEB)/node_modules/.installed
# Redocly's CLI (pinned in tools/redocly) lints the OpenAPI document.
REDOCLY_TOOLS := tools/redocly
REDOCLY_STAMP := $(REDOCLY_TOOLS)/node_modules/.installed
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
# pytest-xdist workers of `make test` (SQLite): 2 on this 2-core machine halves the
# suite's wall time (docs/testing.md); 0 runs it in one process.
TEST_WORKERS ?= 2
# A folder for JUnit XML reports of `make test` and `make test-pg` (CI's tally).
JUNIT_DIR ?=
# localstripe beside `make run` (card payments, scripts/localstripe_server.py); 0 = a
# free port. Not started when STRIPE_SECRET_KEY or STRIPE_API_BASE is set (your own
# provider). The CI targets (walkthrough, newman, fuzz) always use a free port.
LOCALSTRIPE_PORT ?= 8420
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/easytravels_test
# 1: drop and recreate the TEST_DATABASE_URL database before `make test-pg` (CI).
PG_RECREATE ?= 0
# Empty: the walkthrough picks free ports for its server and its SMTP sink.
WALKTHROUGH_PORT ?=
WALKTHROUGH_SMTP_PORT ?=
WALKTHROUGH_ADMIN_EMAIL ?= walkthrough-admin@easytravels.test
WALKTHROUGH_ADMIN_PASSWORD ?= walkthrough-admin-password
# newman (npm registry, pinned in tools/postman/package-lock.json) and what it runs.
POSTMAN_TOOLS := tools/postman
NEWMAN := $(POSTMAN_TOOLS)/node_modules/.bin/newman
NEWMAN_STAMP := $(POSTMAN_TOOLS)/node_modules/.installed
POSTMAN_COLLECTION := docs/postman/easy-travels.postman_collection.json
POSTMAN_ENVIRONMENT := docs/postman/easy-travels.postman_environment.json
NEWMAN_FOLDER ?=
NEWMAN_PORT ?=
NEWMAN_ARGS ?=
# schemathesis (requirements-dev.txt) through scripts/fuzz.py: reports (NDJSON per
# pass) go to FUZZ_REPORT_DIR; FUZZ_ARGS e.g. --passes staff
FUZZ_REPORT_DIR ?= fuzz-report
FUZZ_PORT ?=
# Empty: a fresh SQLite file. Or an EMPTY PostgreSQL database of yours, e.g.
# postgresql://postgres@127.0.0.1:5432/et_fuzz (migrated and seeded by the target).
FUZZ_DATABASE_URL ?=
FUZZ_ARGS ?=
# Options of scripts/drill_pg_restart.py, e.g. --clients 8 --json drill.json
DRILL_ARGS ?=
# Options of bench/load.py, e.g. --quick (2.5 minute smoke, never writes docs/benchmarks.md),
# --no-write-readme (print only) or --duration 15
BENCH_LOAD_ARGS ?=

.PHONY: help venv venv-run browser-deps pdf-deps translations translations-check document-screenshots run test lint test-pg pg-database walkthrough openapi postman newman serve drill bench-load \
	fuzz fuzz-short worker beat dashboard dashboard-deps dashboard-check chromium test-browser \
	screenshots client-check

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) \
	    | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

venv: $(STAMP) ## Create .venv with requirements-dev.txt (test and dev tooling; again when changed)

venv-run: $(RUN_STAMP) ## Create .venv with what `make run` needs only (requirements-local.txt)

$(RUN_STAMP): requirements.txt requirements-local.txt
	@$(PYTHON) scripts/venv_install.py $(VENV) requirements-local.txt \
	    --label "installing the runtime into $(VENV)"
	touch $@

$(STAMP): requirements.txt requirements-local.txt requirements-dev.txt
	@$(PYTHON) scripts/venv_install.py $(VENV) requirements-dev.txt \
	    --label "installing the test and dev tools into $(VENV)"
	touch $@ $(RUN_STAMP)

run: venv-run pdf-deps ## Migrate, load the demo data (skipped when data exists), serve on HOST:PORT + localstripe
	@# The public development secret is accepted only here, on a loopback HOST
	# (config.check_secrets); elsewhere set SECRET_KEY and JWT_SECRET_KEY.
	case '$(HOST)' in 127.*|localhost|::1) export ALLOW_DEV_SECRET_ON_LOOPBACK=1 ;; esac
	tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/easytravels-run.XXXXXX")
	stripe=
	$(LOCALSTRIPE_FUNCTIONS)
	trap 'stripe_down; rm -rf "$$tmp"' EXIT
	echo "database: flask db upgrade"
	$(FLASK) db upgrade >"$$tmp/migrate.log" 2>&1 || { cat "$$tmp/migrate.log"; exit 1; }
	echo "demo data: flask seed-demo (skipped when data exists)"
	$(FLASK) seed-demo
	if [ -z "$${STRIPE_SECRET_KEY:-}$${STRIPE_API_BASE:-}" ]; then
	    stripe_up $(PORT) $(LOCALSTRIPE_PORT) >/dev/null
	    echo "card payments: localstripe at $$STRIPE_API_BASE (publishable key $$STRIPE_PUBLISHABLE_KEY)"
	fi
	echo "serving http://$(HOST):$(PORT)/ (staff dashboard /dashboard, API docs /api/docs; Ctrl-C stops)"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: venv lint pdf-deps browser-deps ## Lint, then run the tests on SQLite (pass options with PYTEST_ARGS)
	@# Two phases: everything but the browser tests on TEST_WORKERS pytest-xdist
	# workers, then the browser tests alone (a live server and Chromium each; they
	# time out when another worker competes for the 2 cores). JUNIT_DIR (CI): one
	# JUnit XML report per phase.
	env -u TEST_DATABASE_URL $(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup \
	    -m "not browser" $(if $(JUNIT_DIR),--junitxml=$(JUNIT_DIR)/sqlite.xml) \
	    $(PYTEST_ARGS)
	if [ ! -x $(CHROMIUM) ] || [ ! -f $(DASHBOARD_STAMP) ]; then
	    echo "browser tests skipped: Chromium or the dashboard packages are missing; enable them with: make chromium dashboard-deps"
	    exit 0
	fi
	echo "browser tests: the staff dashboard in headless Chromium"
	env -u TEST_DATABASE_URL $(BIN)/pytest -m browser \
	    $(if $(JUNIT_DIR),--junitxml=$(JUNIT_DIR)/sqlite-browser.xml) \
	    $(PYTEST_ARGS) || status=$$?
	# 5: PYTEST_ARGS selected no browser test (e.g. -k seed), which is fine here.
	[ "$${status:-0}" -eq 0 ] || [ "$${status:-0}" -eq 5 ]

# Chromium (Debian's, needs root and apt) and the dashboard's npm packages for the
# browser tests: installed when they can be, never failing `make test` when not.
browser-deps:
	@if [ -x $(CHROMIUM) ] && [ -f $(DASHBOARD_STAMP) ]; then exit 0; fi
	echo "browser tests: installing Chromium and the dashboard packages (make chromium dashboard-deps)"
	log=$$(mktemp "$${TMPDIR:-/tmp}/easytravels-browser.XXXXXX")
	if ! $(MAKE) --no-print-directory chromium dashboard-deps >"$$log" 2>&1; then
	    echo "browser tests: could not install them (log: $$log)"
	fi

lint: venv $(DASHBOARD_STAMP) $(REDOCLY_STAMP) ## ruff, ruff format, import contracts, eslint + prettier, Redocly
	@echo "lint: ruff check, ruff format --check, lint-imports, eslint + prettier, redocly"
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/lint-imports --no-cache >"$${TMPDIR:-/tmp}/easytravels-lint-imports.log" 2>&1 \
	    || { cat "$${TMPDIR:-/tmp}/easytravels-lint-imports.log"; exit 1; }
	npm run --silent --prefix $(DASHBOARD_WEB) lint
	$(REDOCLY_TOOLS)/lint.sh

test-pg: venv pdf-deps pg-database ## Run the tests on PostgreSQL (TEST_DATABASE_URL)
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' $(BIN)/pytest \
	    $(if $(JUNIT_DIR),--junitxml=$(JUNIT_DIR)/postgresql.xml) $(PYTEST_ARGS)

pg-database: venv ## Create the TEST_DATABASE_URL database if missing (PG_RECREATE=1: drop first)
	$(BIN)/python -c "$$PG_DATABASE_PY" '$(TEST_DATABASE_URL)' '$(PG_RECREATE)'

walkthrough: venv ## Serve a fresh SQLite database and run examples/walkthrough.py against it
	@$(call LIVE_SERVER_SETUP,walkthrough,$(WALKTHROUGH_PORT))
	smtp_port=$(or $(WALKTHROUGH_SMTP_PORT),$$smtp_port)
	stripe_up "$$port" 0 || exit 1
	export MAIL_SERVER=127.0.0.1 MAIL_PORT="$$smtp_port" MAIL_USE_TLS=false MAIL_USE_SSL=false
	export MAIL_USERNAME= MAIL_PASSWORD=
	export ADMIN_EMAIL='$(WALKTHROUGH_ADMIN_EMAIL)' ADMIN_PASSWORD='$(WALKTHROUGH_ADMIN_PASSWORD)'
	echo "walkthrough: database $$DATABASE_URL, server port $$port, SMTP sink port $$smtp_port"
	$(call LIVE_SERVER_START,)
	$(BIN)/python examples/walkthrough.py --base-url "http://127.0.0.1:$$port" \
	    --admin-email "$$ADMIN_EMAIL" --admin-password "$$ADMIN_PASSWORD" \
	    --smtp-port "$$smtp_port" --stripe-api-base "$$STRIPE_API_BASE" || status=$$?
	$(LIVE_SERVER_END)

openapi: venv ## Export the spec the app serves to docs/openapi.json (sorted keys, servers kept)
	@tmp=$$(mktemp "$${TMPDIR:-/tmp}/easytravels-openapi.XXXXXX")
	trap 'rm -f "$$tmp"' EXIT
	secret=$$($(BIN)/python -c "$$GEN_SECRET_PY")
	APP_CONFIG=development DATABASE_URL=sqlite:// ADMIN_EMAIL= ADMIN_PASSWORD= \
	    SECRET_KEY="$$secret" JWT_SECRET_KEY="$$secret" $(FLASK) openapi write "$$tmp"
	$(BIN)/python scripts/export_openapi.py "$$tmp" docs/openapi.json

postman: venv ## Rebuild docs/postman/ (collection + environment) from docs/openapi.json
	$(BIN)/python scripts/build_postman.py

$(REDOCLY_STAMP): $(REDOCLY_TOOLS)/package.json $(REDOCLY_TOOLS)/package-lock.json
	npm ci --prefix $(REDOCLY_TOOLS) --no-audit --no-fund --loglevel=error
	touch $@

$(NEWMAN_STAMP): $(POSTMAN_TOOLS)/package.json $(POSTMAN_TOOLS)/package-lock.json
	npm ci --prefix $(POSTMAN_TOOLS) --no-audit --no-fund --loglevel=error
	touch $@

newman: venv $(NEWMAN_STAMP) ## Serve a fresh SQLite database with demo data, run the whole Postman collection
	@$(call LIVE_SERVER_SETUP,newman,$(NEWMAN_PORT))
	stripe_up "$$port" 0 || exit 1
	echo "newman: database $$DATABASE_URL, server port $$port, $(if $(NEWMAN_FOLDER),folder '$(NEWMAN_FOLDER)',the whole collection)"
	$(call LIVE_SERVER_START,seed)
	$(NEWMAN) run $(POSTMAN_COLLECTION) -e $(POSTMAN_ENVIRONMENT) \
	    --env-var "baseUrl=http://127.0.0.1:$$port" --env-var "stripeBase=$$STRIPE_API_BASE" \
	    $(if $(NEWMAN_FOLDER),--folder '$(NEWMAN_FOLDER)') \
	    --reporters cli --timeout-request 20000 --color off $(NEWMAN_ARGS) || status=$$?
	$(LIVE_SERVER_END)

client-check: venv ## Generate a Python client (openapi-python-client), run a scenario on a live server
	@$(call LIVE_SERVER_SETUP,client,)
	echo "client-check: generating a Python client from docs/openapi.json into $$tmp"
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/openapi-python-client generate \
	    --path docs/openapi.json --meta none --output-path "$$tmp/easy_travels_client" \
	    --config tools/openapi-client/config.yaml --fail-on-warning
	echo "client-check: database $$DATABASE_URL, server port $$port"
	$(call LIVE_SERVER_START,seed)
	$(BIN)/python scripts/client_scenario.py --client-dir "$$tmp" \
	    --package easy_travels_client --base-url "http://127.0.0.1:$$port" || status=$$?
	$(LIVE_SERVER_END)

fuzz-short: venv ## Serve a fresh SQLite database with demo data, fuzz it briefly (~2 min)
	@$(call FUZZ_RECIPE,short)

fuzz: venv ## Serve a fresh SQLite database with demo data, fuzz it long (~15 min)
	@$(call FUZZ_RECIPE,long)

serve: venv-run ## Serve production (gunicorn.conf.py) on BIND against DATABASE_URL; migrate first
	@if [ -z "$${DATABASE_URL:-}" ]; then
	    echo "make serve: set DATABASE_URL (postgresql://...) and run 'flask db upgrade' first" >&2
	    exit 1
	fi
	APP_CONFIG=production exec $(BIN)/gunicorn -c gunicorn.conf.py

worker: venv-run ## Celery worker delivering the outbox on CELERY_BROKER_URL (run beside `make serve`)
	@if [ -z "$${CELERY_BROKER_URL:-}" ]; then
	    echo "make worker: set CELERY_BROKER_URL (redis://... or amqp://...)" >&2
	    exit 1
	fi
	exec $(BIN)/celery -A worker.celery_app worker --loglevel INFO

beat: venv-run ## Celery beat, the schedule: run exactly ONE per deployment
	@if [ -z "$${CELERY_BROKER_URL:-}" ]; then
	    echo "make beat: set CELERY_BROKER_URL (redis://... or amqp://...)" >&2
	    exit 1
	fi
	exec $(BIN)/celery -A worker.celery_app beat --loglevel INFO

drill: venv ## Restart a private PostgreSQL twice under load; check no 500, no loss (DRILL_ARGS)
	$(BIN)/python scripts/drill_pg_restart.py $(DRILL_ARGS)

bench-load: venv ## Load/scale bench vs the goals on local PostgreSQL, tables into docs/benchmarks.md (BENCH_LOAD_ARGS)
	$(BIN)/python bench/load.py --write-readme $(BENCH_LOAD_ARGS)

# The staff dashboard: sources and pinned npm packages (Vite, Chart.js, axe-core) in
# dashboard/web, the built files committed in dashboard/static (served at /dashboard).

$(DASHBOARD_STAMP): $(DASHBOARD_WEB)/package.json $(DASHBOARD_WEB)/package-lock.json
	npm ci --prefix $(DASHBOARD_WEB) --no-audit --no-fund --loglevel=error
	touch $@

dashboard-deps: $(DASHBOARD_STAMP) ## Install the dashboard's pinned npm packages (npm ci)

dashboard: $(DASHBOARD_STAMP) ## Rebuild the dashboard into dashboard/static/ (commit the result)
	npm run --prefix $(DASHBOARD_WEB) build

dashboard-check: $(DASHBOARD_STAMP) ## Fail when the committed dashboard/static/ is not a fresh build
	@tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/easytravels-dashboard.XXXXXX")
	trap 'rm -rf "$$tmp"' EXIT
	(cd $(DASHBOARD_WEB) && node_modules/.bin/vite build --outDir "$$tmp/static" --emptyOutDir --logLevel warn)
	if ! diff -r "$$tmp/static" dashboard/static; then
	    echo "dashboard/static is stale: run 'make dashboard' and commit it" >&2
	    exit 1
	fi
	echo "dashboard/static matches a fresh build"

translations: venv ## Extract, update and compile the message catalogues (translations/; docs/i18n.md)
	$(BIN)/python scripts/translations.py update

translations-check: venv ## Fail on a missing, fuzzy or stale translation or an uncompiled catalogue
	$(BIN)/python scripts/translations.py check

document-screenshots: venv pdf-deps ## Re-render page 1 of each PDF document to docs/screenshots/document-*.png
	$(BIN)/python scripts/document_screenshots.py

# Fonts for every script in the PDFs (DejaVu: Latin, Greek, Cyrillic, Arabic;
# WenQuanYi Micro Hei: Chinese), HarfBuzz's subsetter (WeasyPrint embeds font
# subsets ~40x faster with it) and poppler-utils (pdftoppm, pdffonts: the PDF
# tests). Debian packages: needs root and apt; never fails `make run`/`make test`.
PDF_PACKAGES := fonts-dejavu-core fonts-wqy-microhei libharfbuzz-subset0 \
    libpango-1.0-0 libpangoft2-1.0-0 poppler-utils
pdf-deps: ## Install the fonts and tools the PDF documents and their tests need (Debian; root)
	@missing=
	for package in $(PDF_PACKAGES); do
	    dpkg -s "$$package" >/dev/null 2>&1 || missing="$$missing $$package"
	done
	[ -z "$$missing" ] && exit 0
	echo "PDF documents: installing$$missing (apt-get)"
	log=$$(mktemp "$${TMPDIR:-/tmp}/easytravels-pdf.XXXXXX")
	if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -qq $$missing; } >"$$log" 2>&1; then
	    echo "PDF documents: could not install$$missing (log: $$log); PDFs may show empty boxes for non-Latin names"
	fi

chromium: ## Install Debian's Chromium for the browser tests (once; needs root)
	@if [ ! -x /usr/bin/chromium ]; then
	    apt-get update -qq
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
	fi
	/usr/bin/chromium --version

test-browser: venv chromium dashboard-deps ## The dashboard's browser tests only (headless Chromium)
	env -u TEST_DATABASE_URL $(BIN)/pytest -m browser $(PYTEST_ARGS)

screenshots: venv chromium dashboard-deps ## Re-take docs/screenshots/ with the browser tests
	DASHBOARD_SCREENSHOTS=1 env -u TEST_DATABASE_URL $(BIN)/pytest -m browser $(PYTEST_ARGS)

# The fuzz targets' recipe ($(1): profile of scripts/fuzz.py), the newman pattern: a
# fresh SQLite database with the demo data, `flask run` on a free port, the server
# log shown when the run fails.
define FUZZ_RECIPE
$(call LIVE_SERVER_SETUP,fuzz,$(FUZZ_PORT),$(FUZZ_DATABASE_URL))
stripe_up "$$port" 0 || exit 1
echo "fuzz ($(1)): database $$DATABASE_URL, server port $$port"
$(call LIVE_SERVER_START,seed)
$(BIN)/python scripts/fuzz.py --base-url "http://127.0.0.1:$$port" --profile $(1) \
    --report-dir '$(FUZZ_REPORT_DIR)' $(FUZZ_ARGS) || status=$$?
$(LIVE_SERVER_END)
endef

# The live-server recipe shared by walkthrough, newman, client-check and the fuzz
# targets. LIVE_SERVER_SETUP (1: name, 2: port or empty for a free one, 3: database
# URL or empty for a fresh SQLite file): a temp dir removed on exit with the server
# and any localstripe (stripe_up) stopped, free ports in $$port and $$smtp_port,
# development config with generated secrets and no mail or admin bootstrap (export
# others before the start). LIVE_SERVER_START (1: non-empty to load the demo data):
# migrate, `flask run` on $$port, wait for /health (the server log shown if it never
# answers), status=0. LIVE_SERVER_END: the server log when the step failed, its exit.
define LIVE_SERVER_SETUP
tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/easytravels-$(1).XXXXXX")
server=
stripe=
$(LOCALSTRIPE_FUNCTIONS)
cleanup() {
    if [ -n "$$server" ]; then
        kill "$$server" 2>/dev/null || true
        wait "$$server" 2>/dev/null || true
    fi
    stripe_down
    rm -rf "$$tmp"
}
show_log() { echo "---- server log (last 60 lines) ----"; tail -n 60 "$$tmp/server.log"; }
trap cleanup EXIT
read -r port smtp_port < <($(BIN)/python -c "$$FREE_PORTS_PY")
port=$(or $(2),$$port)
export APP_CONFIG=development DATABASE_URL="$(or $(3),sqlite:///$$tmp/$(1).db)"
export SECRET_KEY="$$($(BIN)/python -c "$$GEN_SECRET_PY")"
export JWT_SECRET_KEY="$$($(BIN)/python -c "$$GEN_SECRET_PY")"
export MAIL_SERVER= ADMIN_EMAIL= ADMIN_PASSWORD=
endef

define LIVE_SERVER_START
$(FLASK) db upgrade
$(if $(1),$(FLASK) seed-demo >"$$tmp/seed.log" 2>&1 || { cat "$$tmp/seed.log"; exit 1; })
$(FLASK) run --host 127.0.0.1 --port "$$port" >"$$tmp/server.log" 2>&1 &
server=$$!
$(BIN)/python -c "$$WAIT_FOR_HEALTH_PY" "$$port" "$$server" || { show_log; exit 1; }
status=0
endef

define LIVE_SERVER_END
if [ "$$status" -ne 0 ]; then show_log; fi
exit "$$status"
endef

# Shell functions of the recipes that run localstripe beside the service:
# `stripe_up SERVICE_PORT LOCALSTRIPE_PORT` starts scripts/localstripe_server.py (0:
# a free port), registers the service's webhook with a random secret and exports
# STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE;
# `stripe_down` stops it. Both use the recipe's `$$tmp` and `$$stripe`.
define LOCALSTRIPE_FUNCTIONS
stripe_up() {
    export STRIPE_SECRET_KEY=sk_test_local_easytravels
    export STRIPE_PUBLISHABLE_KEY=pk_test_local_easytravels
    STRIPE_WEBHOOK_SECRET="whsec_local_$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(16))')"
    export STRIPE_WEBHOOK_SECRET
    $(BIN)/python scripts/localstripe_server.py --port "$$2" \
        --webhook-url "http://127.0.0.1:$$1/api/v1/webhooks/stripe" \
        --secret "$$STRIPE_WEBHOOK_SECRET" --env-file "$$tmp/localstripe.env" \
        --log "$$tmp/localstripe.log" >"$$tmp/localstripe.out" 2>&1 &
    stripe=$$!
    for _ in $$(seq 150); do
        [ -s "$$tmp/localstripe.env" ] && break
        kill -0 "$$stripe" 2>/dev/null || break
        sleep 0.2
    done
    if [ ! -s "$$tmp/localstripe.env" ]; then
        echo "localstripe did not start:" >&2
        cat "$$tmp/localstripe.out" >&2
        return 1
    fi
    set -a
    . "$$tmp/localstripe.env"
    set +a
    echo "localstripe: $$STRIPE_API_BASE, webhook -> http://127.0.0.1:$$1/api/v1/webhooks/stripe"
}
stripe_down() {
    if [ -n "$${stripe:-}" ]; then
        kill "$$stripe" 2>/dev/null || true
        wait "$$stripe" 2>/dev/null || true
    fi
}
endef

# Python snippets for the recipes (kept in variables: .ONESHELL strips the indentation
# of here-documents). No "$" in them: make would expand it.

define CHECK_PYTHON_PY
import sys
if sys.version_info < (3, 11):
    sys.exit("Python 3.11+ is needed; this python3 is " + sys.version.split()[0])
endef

define PG_DATABASE_PY
import sys
from urllib.parse import urlsplit
import psycopg
from psycopg import sql
url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
recreate = sys.argv[2] == "1"
parts = urlsplit(url)
name = parts.path.lstrip("/")
if not name or parts.scheme not in ("postgres", "postgresql"):
    sys.exit(f"TEST_DATABASE_URL must be postgresql://user@host:port/dbname, not {url!r}")
maintenance = parts._replace(path="/postgres").geturl()
with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
    database = sql.Identifier(name)
    if recreate:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        print(f"dropped database {name} (if it existed)")
    found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if not found:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(database))
        print(f"created database {name}")
endef

# A random secret for the development servers the CI targets start (the public
# default is refused outside `make run` on loopback: config.check_secrets).
define GEN_SECRET_PY
import secrets
print(secrets.token_hex(32))
endef

define FREE_PORTS_PY
import socket
socks = [socket.socket() for _ in range(2)]
for sock in socks:
    sock.bind(("127.0.0.1", 0))
print(*(sock.getsockname()[1] for sock in socks))
endef

define WAIT_FOR_HEALTH_PY
import os, sys, time, urllib.request
port, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
            if answer.status == 200:
                sys.exit(0)
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("the server exited before answering /health")
    time.sleep(0.3)
sys.exit("the server did not answer /health within 30 s")
endef

export CHECK_PYTHON_PY PG_DATABASE_PY FREE_PORTS_PY WAIT_FOR_HEALTH_PY GEN_SECRET_PY

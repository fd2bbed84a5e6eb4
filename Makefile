# rectify — everything sets itself up from nothing: `make test`, `make run`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PostgreSQL for the second pass of the suite (override to point elsewhere).
RECTIFY_TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export RECTIFY_TEST_PG_URL
# `make run` replays the demo as of its notice day: `rectify demo` stores that day in the database
# and every process (web, worker, flow runs, later commands) runs on it; see `rectify clock`.

.PHONY: setup test test-sqlite test-pg test-topology lint run demo bench bench-national mutation clean migration-initial

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

test: setup lint
	(command -v chromium >/dev/null && fc-list :lang=zh | grep -q .) || (apt-get update && apt-get install -y chromium fonts-noto-cjk)
	# DOCX -> PDF for the notice test: LibreOffice Writer without the GUI (~260 MB), pdftotext/pdfinfo.
	(command -v soffice >/dev/null && command -v pdftotext >/dev/null) || (apt-get update && apt-get install -y --no-install-recommends libreoffice-writer-nogui poppler-utils)
	# -rsx lists every skipped and xfailed test with its reason; a skip not in tests/conftest.py's
	# ALLOWED_SKIPS fails the run.
	# -n 2: two pytest worker processes (pytest-xdist), one per core; each has its own databases
	# and Prefect test server; worksteal: a worker that runs dry takes tests from the other's queue.
	$(BIN)/python -m pytest -q -rsx -p no:cacheprovider --db=sqlite --db=postgres --strict-skips -n 2 --dist worksteal

test-sqlite: setup
	$(BIN)/python -m pytest -q --db=sqlite

test-pg: setup
	$(BIN)/python -m pytest -q --db=postgres

# The whole system on this machine as on several (PostgreSQL, a Prefect server, workers, two web
# processes; a worker killed mid-recheck): tests/topology, which `make test` does not collect.
test-topology: setup
	RECTIFY_TOPOLOGY=1 $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/topology

run: setup
	$(BIN)/rectify db upgrade
	$(BIN)/rectify demo --if-empty
	$(BIN)/rectify up

bench: setup
	$(BIN)/python -m bench $(if $(SCALE),--scale $(SCALE),)

# One national quarter at full size (3,000 offices, 434,000 pages; about 15 minutes or more):
# bench/results/national.json. `make bench` runs it at 0.05 of that (national-quick.json).
bench-national: setup
	$(BIN)/python -m bench --national-scale $(or $(NATIONAL_SCALE),1) national

# Mutation testing of the rules a person sees (states/, deadlines, pass rates and statistics,
# the notice's problem section) on a copy of the tree, SQLite only; not part of `make test`.
mutation: setup
	$(BIN)/python -m bench.mutation

clean:
	# The data directory (RECTIFY_DATA_DIR, ~/.local/share/rectify) is outside the tree: kept.
	rm -rf $(VENV) *.egg-info

# Until the first release the schema is one initial migration, regenerated from the models.
# After the first release: `alembic revision --autogenerate` a new file instead.
migration-initial: setup
	rm -f services/db/migrations/versions/0001_initial_schema.py /tmp/rectify-migration.db
	# Hand-written migrations on top of 0001 (0002_… triggers) wait aside while it is rebuilt.
	rm -rf /tmp/rectify-later-migrations && mkdir -p /tmp/rectify-later-migrations
	find services/db/migrations/versions -maxdepth 1 -name '0*.py' -exec mv {} /tmp/rectify-later-migrations/ \;
	$(BIN)/python -c "from alembic import command; from services.db.engine import make_engine; from services.db.migrate import alembic_config; command.revision(alembic_config(make_engine('sqlite:////tmp/rectify-migration.db')), message='initial schema', autogenerate=True, rev_id='0001')"; \
	  status=$$?; find /tmp/rectify-later-migrations -name '*.py' -exec mv {} services/db/migrations/versions/ \; ; exit $$status
	$(BIN)/ruff check --fix --unsafe-fixes -q services/db/migrations
	$(BIN)/ruff format -q services/db/migrations

# The README's two commands: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2
export EXAM_INSTANCE_DIR ?= $(CURDIR)/instance
PG_TEST_URL := postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test lint chromium migrate seed bench-save bench-scoring bench-assembly clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

migrate: $(VENV)/.installed
	EXAM_ENV=$${EXAM_ENV:-dev} $(BIN)/alembic upgrade head

seed: migrate
	EXAM_ENV=dev $(BIN)/flask --app webapp seed-demo

# Demo mode: migrates instance/exam.db, resets the demo data and serves on 127.0.0.1:$(PORT).
# Sync workers: requests are short and CPU-bound, and threads in one process queue behind the
# GIL (docs/benchmarks.md: twice the saves per second of gthread workers on two cores).
run: seed
	@echo "Serving the demo on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	EXAM_ENV=dev $(BIN)/gunicorn --workers $(WORKERS) --worker-class sync --timeout 60 \
		--bind 127.0.0.1:$(PORT) --access-logfile - 'webapp:create_app()'

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

# Runs ruff and every test, e2e included; on PostgreSQL too when the local server answers.
test: $(VENV)/.dev-installed chromium lint
	@if $(BIN)/python -c "import psycopg; psycopg.connect('postgresql://postgres@127.0.0.1:5432/test', connect_timeout=3).close()" 2>/dev/null; then \
		echo "PostgreSQL answers: database tests also run on it"; \
		export TEST_POSTGRES_URL=$${TEST_POSTGRES_URL:-$(PG_TEST_URL)}; \
	fi; \
	$(BIN)/pytest -q -ra

bench-save: $(VENV)/.dev-installed
	$(BIN)/python -m bench.save

# The psychometric engine at production size, against girth (the `bench` extra).
bench-scoring: $(VENV)/.dev-installed
	$(BIN)/python -c "import girth" 2>/dev/null || $(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python -m bench.scoring

# Two parallel 180-item forms of the reference programme from a simulated 2,000-item bank,
# in at most 60 s (docs/assembly.md).
bench-assembly: $(VENV)/.dev-installed
	$(BIN)/python -m bench.assembly

clean:
	rm -rf $(VENV) instance *.egg-info

# Extract every user-facing string into the catalogue template (webapp/translations/messages.pot).
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o webapp/translations/messages.pot --no-location --omit-header .

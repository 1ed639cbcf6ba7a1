# Two entry points: `make demo` (SQLite, demo data, admin at :8000) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two installs into one venv: the demo needs the runtime dependencies only;
# tests, checks, screenshots and benchmarks add .[dev] and the SDK on top.
DEMO_STAMP := $(VENV)/.installed-demo
STAMP := $(VENV)/.installed
# Tests run in this many processes (pytest-xdist), each on its own test database.
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadfile
# schemathesis names every operation's test alike, which pytest-xdist cannot share out: run apart.
SERIAL := tests/fuzz/test_openapi_fuzz.py

.PHONY: install install-demo demo demo-reset test test-fast browser screenshots benchmarks schema clean

$(DEMO_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(DEMO_STAMP)

$(STAMP): $(DEMO_STAMP) pyproject.toml sdk/pyproject.toml
	$(BIN)/pip install -q -e '.[dev]' -e ./sdk
	touch $(STAMP)

# What the demo runs on: the product and its runtime dependencies.
install-demo: $(DEMO_STAMP)

# Everything: the demo's install plus test tools, linters and the SDK (CI: .ci/run).
install: $(STAMP)

# Stop the server with Ctrl-C; `make demo` again keeps the data (seed_demo adds only what is missing).
demo: install-demo
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py create_demo_admin
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# Deletes the demo database; the next `make demo` starts from an empty one.
demo-reset:
	rm -f db.sqlite3

# The whole suite, browser tests included (they skip locally without /usr/bin/chromium).
test: install
	$(BIN)/python -m pytest -q $(XDIST) --ignore=$(SERIAL)
	$(BIN)/python -m pytest -q -p no:xdist $(SERIAL)

test-fast: install
	$(BIN)/python -m pytest -q $(XDIST) -m "not browser" --ignore=$(SERIAL)
	$(BIN)/python -m pytest -q -p no:xdist $(SERIAL)

browser: install
	$(BIN)/python -m pytest -q $(XDIST) -m browser

# Regenerates docs/screenshots/*.png from the browser tests.
screenshots: install
	OPS_SCREENSHOT_DIR=docs/screenshots $(BIN)/python -m pytest -q -m browser

schema: install
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

benchmarks: install
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/pipeline.py
	$(BIN)/python benchmarks/trace_page.py
	$(BIN)/python benchmarks/control_loop.py
	$(BIN)/python benchmarks/regression.py
	$(BIN)/python benchmarks/impact.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles var

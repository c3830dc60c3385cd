# Set-up is part of every target: a fresh machine needs only `make run` or `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# Debian packages: Graphviz draws the org charts, a CJK font renders their Chinese names,
# poppler's pdftotext and pdffonts let the tests read the PDFs back, and Chromium is the
# browser the explorer's tests drive (Playwright uses it; it downloads no browser).
DEBIAN_PACKAGES := graphviz fonts-wqy-microhei poppler-utils chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run run-graph bench-graphdb bench-graphdb-writes test lint system docs bench bench-hostile bench-scale bench-compliance bench-charts bench-writes bench-planner bench-access bench-reconcile bench-dashboard vendor-echarts clean clean-state

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "chainorg needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Quick when they are present; apt's package lists are refreshed only if the install needs it.
system:
	@command -v dot >/dev/null && command -v pdftotext >/dev/null && command -v chromium >/dev/null && fc-list 2>/dev/null | grep -q "WenQuanYi Micro Hei" \
	|| $(SUDO) apt-get install -y --no-install-recommends $(DEBIAN_PACKAGES) \
	|| { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends $(DEBIAN_PACKAGES); }

# The demo served from a state under the project folder: changes made in the explorer
# are kept there, across restarts. `make clean-state` starts it afresh.
STATE ?= state/demo

$(STATE)/chainorg.sqlite: | $(STAMP)
	$(BIN)/chainorg load --demo --state $(STATE)

run: $(STAMP) system $(STATE)/chainorg.sqlite
	$(BIN)/chainorg serve --state $(STATE) --host $(HOST) --port $(PORT)

# The demo over a graph database: a local ArcadeDB (Bolt on GRAPH_PORT, files under GRAPH_DIR)
# started, the demo loaded into it (in place of what it held), served; the database stops with it.
GRAPH_DIR ?= state/graphdb
GRAPH_PORT ?= 7687
GRAPH_PASSWORD ?= chainorg-local
GRAPH_URL := bolt://root@127.0.0.1:$(GRAPH_PORT)/neo4j

run-graph: $(STAMP) system
	@mkdir -p $(GRAPH_DIR)
	@export CHAINORG_STORE_PASSWORD='$(GRAPH_PASSWORD)'; \
	$(BIN)/python arcadedb.py $(GRAPH_DIR) '$(GRAPH_PASSWORD)' $(GRAPH_PORT) > $(GRAPH_DIR)/started.txt 2>&1 & database=$$!; \
	trap 'kill $$database 2>/dev/null; wait $$database' EXIT INT TERM; \
	until grep -q bolt:// $(GRAPH_DIR)/started.txt; do kill -0 $$database 2>/dev/null || { cat $(GRAPH_DIR)/started.txt; exit 1; }; sleep 0.5; done; \
	$(BIN)/chainorg load --demo --store $(GRAPH_URL) --replace && \
	$(BIN)/chainorg serve --store $(GRAPH_URL) --host $(HOST) --port $(PORT)

test: lint system
	$(BIN)/python -m pytest

# Lint, format and types: part of `make test`, so CI enforces them.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/coverage.py

bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py

bench-compliance: $(STAMP)
	$(BIN)/python bench/compliance.py

bench-charts: $(STAMP) system
	$(BIN)/python bench/charts.py

bench-writes: $(STAMP)
	$(BIN)/python bench/writes.py

bench-planner: $(STAMP)
	$(BIN)/python bench/planner.py

# The API's schema as SDL, for client code generators; the suite fails when it is out of date.
docs: $(STAMP)
	$(BIN)/python -c 'from schema import build_schema; print(build_schema().as_str())' > docs/schema.graphql

bench-hostile: $(STAMP)
	$(BIN)/python bench/hostile.py

bench-access: $(STAMP)
	$(BIN)/python bench/access.py

bench-reconcile: $(STAMP)
	$(BIN)/python bench/reconcile.py

bench-graphdb: $(STAMP)
	$(BIN)/python bench/graphdb.py --size 300k --repeat 5

bench-graphdb-writes: $(STAMP)
	$(BIN)/python bench/graphdb_writes.py

bench-dashboard: $(STAMP) system
	$(BIN)/python bench/dashboard.py

# The dashboard's charts: ECharts from npm, pinned, vendored into the package (the page loads
# nothing from elsewhere). Run by hand to move to another release; the result is committed.
ECHARTS_VERSION := 6.1.0
DASHBOARD := schema/static/dashboard
vendor-echarts:
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent echarts@$(ECHARTS_VERSION) >/dev/null && tar xzf echarts-$(ECHARTS_VERSION).tgz) \
	&& cp $$tmp/package/dist/echarts.common.min.js $(DASHBOARD)/echarts.min.js \
	&& { echo "Apache ECharts $(ECHARTS_VERSION) (npm echarts@$(ECHARTS_VERSION), dist/echarts.common.min.js: bar, line, pie, SVG renderer, aria), Apache License 2.0"; \
	     echo; cat $$tmp/package/NOTICE; echo; cat $$tmp/package/LICENSE; } > $(DASHBOARD)/LICENSES.txt && rm -rf $$tmp

clean-state:
	rm -rf $(STATE)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

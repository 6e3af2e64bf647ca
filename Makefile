# Two commands on a fresh machine: `make run` runs the hub, `make test` runs the tests.
# Each sets itself up first: a virtualenv in .venv with the locked dependencies.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.installed

.PHONY: run test bench lock clean

$(READY): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit("MorningAI needs Python 3.11 or newer, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e ".[test]"
	@touch $(READY)

run: $(READY)
	$(VENV)/bin/morningai up

test: $(READY)
	$(PY) -m pytest

bench: $(READY)
	$(PY) bench/submit.py

# Re-pin every dependency after changing pyproject.toml.
lock: $(READY)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --python-version 3.11 --quiet -o requirements.lock

clean:
	rm -rf $(VENV)

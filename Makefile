# The two commands a newcomer needs: `make demo` and `make test`.
# Each sets itself up on a fresh machine: a .venv with the pinned versions in
# requirements.lock, then the project itself in editable mode.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench lock clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lookout demo

test: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/lookout bench match --residents 1000000

# Re-pin every dependency after changing pyproject.toml.
lock:
	rm -rf /tmp/lookout-lock && $(PYTHON) -m venv /tmp/lookout-lock
	/tmp/lookout-lock/bin/pip install --quiet -e '.[dev]'
	/tmp/lookout-lock/bin/pip freeze --exclude-editable > requirements.lock
	rm -rf /tmp/lookout-lock

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

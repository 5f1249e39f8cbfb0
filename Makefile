# The two commands a newcomer needs: `make demo` and `make test`.
# Each sets itself up on a fresh machine: a .venv with the pinned versions in
# requirements.lock, then the project itself in editable mode.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo check test fuzz bench lock translations clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lookout demo

# The linter, the formatter's check and the type checker (their settings are [tool.ruff] and [tool.mypy]
# in pyproject.toml). `ruff format .` and `ruff check --fix .` mend most of what the first two find.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Three test processes: most end-to-end tests wait on real servers, so a third
# keeps both cores busy (each process has its own PostgreSQL schema and files).
# Then the calendar-sensitive tests again with the clock moved (a year ahead; 23:30 in
# London on the night the clocks change), so a suite that would fail next week fails today.
test: $(STAMP)
	@tests/debian_packages.sh
	$(BIN)/pytest -n 3
	$(BIN)/python tests/moved_clock.py $(BIN)/pytest -n 3 -m calendar -p no:cacheprovider -q

# The hostile-input suite with a long budget (make test runs it with a short one).
fuzz: $(STAMP)
	LOOKOUT_FUZZ_EXAMPLES=3000 $(BIN)/pytest tests/fuzz

bench: $(STAMP)
	$(BIN)/lookout bench match --residents 1000000

# After changing what the bots say: refresh the catalogues (then translate the new
# entries in core/locales/*/LC_MESSAGES/lookout.po) and compile them.
translations: $(STAMP)
	$(BIN)/pybabel extract -k _ -k __ -k N_ --no-location --sort-output --project=Lookout \
	    --copyright-holder="Lookout contributors" -o core/locales/lookout.pot bots/telegram core/conversation bots/whatsapp bots/sms
	$(BIN)/pybabel update -i core/locales/lookout.pot -d core/locales -D lookout --no-fuzzy-matching
	$(BIN)/pybabel compile -d core/locales -D lookout

# Re-pin every dependency after changing pyproject.toml.
lock:
	rm -rf /tmp/lookout-lock && $(PYTHON) -m venv /tmp/lookout-lock
	/tmp/lookout-lock/bin/pip install --quiet -e '.[dev]'
	/tmp/lookout-lock/bin/pip freeze --exclude-editable > requirements.lock
	rm -rf /tmp/lookout-lock

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache

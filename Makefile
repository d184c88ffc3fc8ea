# Two commands on a fresh machine: `make demo` runs the whole chain locally, `make test` runs the suite.
# Each creates .venv and installs vangnet into it when that hasn't happened yet.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench reliability install clean-state scale-out scale-out-down

# The management report is tested in headless Chromium: Debian's package (no browser download at run time).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	PREFECT_SERVER_ANALYTICS_ENABLED=false $(BIN)/vangnet demo

$(CHROMIUM):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium \
	  || ($(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium)

test: $(STAMP) $(CHROMIUM)
	PREFECT_SERVER_ANALYTICS_ENABLED=false $(BIN)/python -m pytest

# Benchmarks (bench/): every speed as a ratio against a reference measured in the same run; writes
# bench/results.json and bench/results.md. Not part of `make test` (a quick smoke variant is).
bench: $(STAMP)
	PREFECT_SERVER_ANALYTICS_ENABLED=false $(BIN)/python -m bench

# Reliability and security (issue 10). Crash consistency: the worker is SIGKILLed at >= 200 points (after an SQL
# statement, after a commit, before a request, after an answer, on a timer), restarted, and nothing may be lost
# or doubled; prints the table and writes reliability/results.{md,json}. Then the fault run (30 % chaos at every
# partner, with its privacy scan), the hostile-input corpus and the security checks. CI-sized variants of all of
# them run in `make test`.
reliability: $(STAMP)
	PREFECT_SERVER_ANALYTICS_ENABLED=false $(BIN)/python -m reliability --trials 200
	PREFECT_SERVER_ANALYTICS_ENABLED=false $(BIN)/python -m pytest -q tests/test_fault_run.py \
	  tests/test_hostile_inputs.py tests/test_security_suite.py tests/test_crash_consistency.py

# Remove local state (database, Prefect home, logs); stops the local Prefect server first.
clean-state: $(STAMP)
	-$(BIN)/vangnet server stop
	rm -rf var

# Prefect server on PostgreSQL, a process work pool with two workers, the store on PostgreSQL
# (flows/scaleout.py; GEMEENTE=0518 by default). `make scale-out-down` stops it.
GEMEENTE ?= 0518
scale-out: $(STAMP)
	PREFECT_SERVER_ANALYTICS_ENABLED=false $(BIN)/vangnet scaleout up --gemeente $(GEMEENTE) --workers 2

scale-out-down: $(STAMP)
	$(BIN)/vangnet scaleout down

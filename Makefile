# make run: build the virtualenv and serve on :8080.  make test: build it and run the suite.
# make check-deploy: check deploy/ (installs promtool).  URL=... make smoke: check a running exporter.
# make bench: the exporter against a bare WSGI ceiling and a floor with wrk (installs wrk); writes docs/bench.md.
# make steps: what each step of a webhook request costs in one worker; writes docs/steps.md.
# make mutants: mutation testing of twilio_exporter.py with the fast in-process tests (installs mutmut and
# pytest-random-order).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv run test wheel-check postgresql bench steps mutants smoke check-deploy clean

# The runtime and the optional extras (psycopg, phonenumbers), installed from the project itself.
$(BIN)/.installed: setup.cfg pyproject.toml
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "Cannot make a virtualenv with $(PYTHON):" \
	  "on Debian or Ubuntu, install it first with: apt-get install python3-venv"; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[postgres,country]'
	touch $@

# The test tools on top, for make test (make run never installs them).
$(BIN)/.tested: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[postgres,country,test]'
	touch $@

venv: $(BIN)/.installed

run: $(BIN)/.installed
	$(BIN)/gunicorn -c gunicorn.conf.py twilio_exporter:app

test: $(BIN)/.tested postgresql
	$(BIN)/python -m pytest

# Build the wheel, install it into a fresh virtualenv, and serve a signed callback from it.
wheel-check: $(BIN)/.installed
	BIN=$(BIN) bash .ci/wheel-check

# The suite starts PostgreSQL servers of its own with Debian's postgresql package, installed when missing.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && echo "installing Debian's postgresql package for the tests" && apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; } \
	  || { echo "make test needs PostgreSQL's programs: sudo apt-get install postgresql" >&2; exit 1; }

# The exporter against a bare WSGI ceiling and a floor with wrk, results in docs/bench.md; BENCH_ARGS=--smoke for a
# tiny run that only proves it works (and writes nothing).
bench: $(BIN)/.installed postgresql
	$(BIN)/python bench/run.py --results docs/bench.md $(BENCH_ARGS)

# The request path step by step in one process, by the thread's CPU clock, results in docs/steps.md;
# STEPS_ARGS="--count 400" for a quick run that only proves it works (and writes nothing).
steps: $(BIN)/.installed
	$(BIN)/python bench/steps.py $(or $(STEPS_ARGS),--results docs/steps.md)

# mutmut 3 mutates a copy in mutants/ and runs the tests not marked server, docs or postgresql (setup.cfg [mutmut]);
# `mutmut results` lists the survivors, `mutmut show NAME` shows one. mutmut hands a mutant's tests to
# pytest in no fixed order, so they run in a shuffled order first: a test that needs another before it
# would count mutants as killed that are not.
mutants: $(BIN)/.tested
	$(BIN)/pip install --quiet -e '.[mutants]'
	$(BIN)/python -m pytest -q -m 'not (server or docs or postgresql)' --random-order-bucket=global
	rm -rf mutants
	$(BIN)/mutmut run
	$(BIN)/mutmut results

# URL=http://host:8080 make smoke: curl checks of a running exporter (signed with TWILIO_AUTH_TOKEN if set).
smoke:
	bash deploy/smoke.sh

# promtool on the alert rules and a live scrape, the dashboard's JSON, systemd-analyze on the unit.
check-deploy: $(BIN)/.installed
	BIN=$(BIN) bash deploy/check-deploy.sh

clean:
	rm -rf $(VENV) *.egg-info build dist .pytest_cache __pycache__ mutants

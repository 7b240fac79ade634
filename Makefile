# make run: build the virtualenv and serve on :8080.  make test: build it and run the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test clean

$(BIN)/.installed: setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# setup.cfg lists the dependencies; pip takes them from there (the module is used in place).
	$(BIN)/python -c "import configparser as c; p = c.ConfigParser(); p.read('setup.cfg'); \
	  print(p['options']['install_requires'] + p['options.extras_require']['test'])" \
	  | xargs $(BIN)/pip install --quiet
	touch $@

run: $(BIN)/.installed
	$(BIN)/gunicorn -c gunicorn.conf.py twilio_exporter:app

test: $(BIN)/.installed
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache __pycache__

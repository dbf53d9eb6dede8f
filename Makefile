# simkit — `make run` and `make test` work on a fresh machine: they create .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LAB_STAMP := $(VENV)/.lab-installed

.PHONY: setup run test lab bench notebooks lint sync-data clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/simkit run $(ARGS)

test: $(STAMP)
	$(PY) -m pytest

# JupyterLab is the optional extra simkit[lab]: only `make lab` installs it (CI and `make test` do not)
$(LAB_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,lab]'
	touch $(LAB_STAMP)

lab: $(LAB_STAMP)
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP)
	$(PY) bench/run.py

notebooks: $(STAMP)
	$(PY) -m pytest tests/test_notebooks.py tests/test_notebook_dr.py tests/test_notebook_export.py

lint: $(STAMP)
	$(VENV)/bin/ruff check simkit tests bench
	$(VENV)/bin/mypy simkit

# the package ships copies of data/ and scenarios/ (tests/test_wheel.py fails while they differ)
sync-data:
	rm -f simkit/_data/catalog/* simkit/_data/scenarios/*.yaml
	cp data/*.csv data/README.md simkit/_data/catalog/
	cp scenarios/*.yaml simkit/_data/scenarios/

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

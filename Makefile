# The two commands of the README. Both work on a fresh clone: they create .venv and install what they need.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8501

.PHONY: run test lint bench clean-data messages

# The app's texts (#14): gettext catalogues, compiled to the .mo files the app reads (not committed).
LOCALE := trygghetskarta/locale
PO := $(wildcard $(LOCALE)/*/LC_MESSAGES/*.po)
MO := $(PO:.po=.mo)

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $@

$(LOCALE)/%.mo: $(LOCALE)/%.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile -i $< -o $@

## make messages: extract the message ids from the code (babel.cfg: the app, sv/en; babel-public.cfg: the public
## pages, sv/en/ar/so), add new ones to every catalogue (empty, to be filled in), drop unused ones, compile
messages: $(VENV)/.installed
	for domain in messages public; do \
	  cfg=$$( [ $$domain = messages ] && echo babel.cfg || echo babel-public.cfg ); \
	  $(VENV)/bin/pybabel extract -F $$cfg --no-default-keywords -k N_ --omit-header --no-location \
	    --width 120 -o $(LOCALE)/$$domain.pot . || exit 1; \
	  $(VENV)/bin/pybabel update -D $$domain -i $(LOCALE)/$$domain.pot -d $(LOCALE) --no-fuzzy-matching \
	    --ignore-obsolete --width 120 || exit 1; \
	  $(VENV)/bin/pybabel compile -D $$domain -d $(LOCALE) --statistics || exit 1; \
	done

## make run: the app on the embedded database (created and filled with demo data when empty)
run: $(VENV)/.installed $(MO)
	$(PY) -m trygghetskarta init
	$(PY) -m trygghetskarta demo --if-empty
	$(VENV)/bin/streamlit run serve.py --server.address $(HOST) --server.port $(PORT)

## make test: lint (ruff, with the complexity rules), types (mypy --check-untyped-defs) and the whole test suite
## (PostGIS and browser tests included)
test: $(VENV)/.dev-installed $(MO)
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -n 2 --dist loadgroup

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: $(VENV)/.dev-installed
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

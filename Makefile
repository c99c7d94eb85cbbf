# The two commands a newcomer needs: `make run` and `make test`.
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

.PHONY: run test lint install migrate demo worker beat backup restore bench clean

$(STAMP): pyproject.toml scripts/find-python
	test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_localities
	$(PY) manage.py demo_season --county 411325 --residents 3000 --if-empty
	$(PY) manage.py demo_season --county 500240 --residents 2000 --if-empty
	$(PY) manage.py demo_accounts

run: demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "canbao 正在运行: http://127.0.0.1:8000  (Ctrl-C 退出)"
	$(PY) manage.py runserver 127.0.0.1:8000

# The layers (core <- subsidies <- enrollment <- collections_app <- reporting) are a test:
# tests/unit/test_layers.py. Lint and types first: they take seconds, the suite minutes.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy core subsidies

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A config worker --loglevel=info

beat: install
	$(BIN)/celery -A config beat --loglevel=info

backup: install
	$(PY) manage.py backup $(if $(FILE),--output $(FILE),)

restore: install
	$(PY) manage.py restore $(FILE)

bench: install
	for f in bench/[a-z]*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) staticfiles db.sqlite3

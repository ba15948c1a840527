# The one list of things a developer runs. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_ARCHIVE := $(CURDIR)/var/demo-archive
export SECRET_KEY ?= provena-test-only-key
# Tests and the demo must never reach for a network or a model hub.
export HF_HUB_OFFLINE := 1

.PHONY: install messages demo serve test test-postgres integration api-fuzz lint format bench bench-accuracy bench-graph lock clean system-deps

install: $(STAMP) messages

# The interface catalogues (locale/*/LC_MESSAGES/django.po, committed) compiled to .mo, which
# are built, not committed; msgfmt comes with gettext (make system-deps).
CATALOGUES := $(wildcard locale/*/LC_MESSAGES/django.po)
messages: $(CATALOGUES:.po=.mo)

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po $(STAMP)
	command -v msgfmt >/dev/null || $(MAKE) system-deps
	$(BIN)/python manage.py compilemessages --locale $* --ignore .venv

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools<81" wheel
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock
	touch $(STAMP)

# Debian packages the report and browser tests use (pdfsig, chromium, the Noto CJK fonts that
# Chinese reports embed), gettext for the interface catalogues, and the tools make bench
# compares with (jdupes, findimagedupes); installs only if missing.
system-deps:
	@missing=""; \
	command -v pdfsig >/dev/null || missing="$$missing poppler-utils"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	fc-list | grep -q "Noto Sans CJK HK" || missing="$$missing fonts-noto-cjk"; \
	command -v jdupes >/dev/null || missing="$$missing jdupes"; \
	command -v findimagedupes >/dev/null || missing="$$missing findimagedupes"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
	  else echo "please install:$$missing (Debian packages)"; exit 1; fi; \
	fi

# The demo stores face encodings (for data access requests) under a key made on first run.
DEMO_ENV = PROVENA_DEBUG=true PROVENA_ALLOWED_ROOTS=$(DEMO_ARCHIVE) PROVENA_FACE_ENCODINGS=true PROVENA_FACE_KEY_FILE=var/face.key

demo: install
	mkdir -p var
	test -s var/face.key || $(BIN)/python manage.py generate_face_key > var/face.key
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py setup_demo --archive $(DEMO_ARCHIVE)
	@echo "Serving on http://127.0.0.1:8000/ (Ctrl-C to stop)"
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

# Two processes: the suite scans real images and renders real PDFs.
PYTEST_WORKERS ?= 2

test: install system-deps
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) -m "not integration" $(PYTEST_ARGS)

# The same suite on PostgreSQL (DATABASE_URL must point at it), plus the integration tests
# (they also need Redis on 127.0.0.1:6379; without it they skip, or fail when CI=true).
test-postgres: install system-deps
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/provena} \
	  $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Only the integration tests: Celery workers as subprocesses on PostgreSQL and Redis.
integration: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/provena} \
	  $(BIN)/python -m pytest -q -m integration tests/integration $(PYTEST_ARGS)

# A longer, randomised schemathesis run against the API (make test runs a short, repeatable one;
# docs/security.md). Raise the count with PROVENA_API_FUZZ_EXAMPLES=200.
api-fuzz: install
	PROVENA_API_FUZZ_RANDOM=1 PROVENA_API_FUZZ_EXAMPLES=$${PROVENA_API_FUZZ_EXAMPLES:-50} \
	  $(BIN)/python -m pytest -q tests/test_api_schema_fuzz.py $(PYTEST_ARGS)

# mypy's settings are [tool.mypy] in pyproject.toml; django-stubs imports governance.settings,
# hence PROVENA_DEBUG (and SECRET_KEY, exported above).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PROVENA_DEBUG=true $(BIN)/mypy
	PROVENA_DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	PROVENA_DEBUG=true $(BIN)/python bench/run.py $(BENCH_ARGS)
	PROVENA_DEBUG=true $(BIN)/python bench/report.py
	PROVENA_DEBUG=true $(BIN)/python bench/exposure.py
	PROVENA_DEBUG=true $(BIN)/python bench/matching_scale.py
	PROVENA_DEBUG=true $(BIN)/python bench/face_pass.py
	PROVENA_DEBUG=true $(BIN)/python bench/archive_compare.py
	PROVENA_DEBUG=true $(BIN)/python bench/archive_compare_command.py

# Near-duplicate accuracy on real photographs and their edited copies, against plain pHash:
# the calibration corpus (looked at while setting thresholds), the evaluation corpus (never
# tuned on), the hard negatives of both splits, and the hash index's recall at 300k and 1M keys.
bench-accuracy: install
	$(BIN)/python bench/accuracy.py $(BENCH_ARGS)
	$(BIN)/python bench/accuracy.py --evaluation --no-faces
	$(BIN)/python bench/accuracy.py --hard-negatives calibration evaluation evaluation-2 evaluation-3 evaluation-4
	$(BIN)/python bench/hashindex_recall.py

# The asset graph on real photographs and their copies: masters, relations against the
# parent, certain copies, and one reclaimable figure everywhere.
bench-graph: install
	PROVENA_DEBUG=true $(BIN)/python bench/graph.py $(BENCH_ARGS)

lock:
	$(BIN)/python -m pip freeze --all | grep -viE "^(pip|wheel)==" > requirements.lock.new
	@echo "review requirements.lock.new, keep its header, and move it over requirements.lock"

clean:
	rm -rf var/media var/demo-archive var/bench .pytest_cache

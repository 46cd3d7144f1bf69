# The two set-up commands are `make demo` and `make test`; both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
LAKE ?= lake/demo
# checkov pins old versions of boto3 and packaging, so it lives in a venv of its own.
CHECKOV := $(VENV)/tools/checkov/bin/checkov

.PHONY: demo test lint typecheck unit browser lambda-runtimes compiled bench clean install install-dev

$(PY):
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is required" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed | $(CHECKOV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

$(CHECKOV): | $(PY)
	$(PYTHON) -m venv $(VENV)/tools/checkov
	$(VENV)/tools/checkov/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/tools/checkov/bin/python -m pip install --quiet 'checkov==3.3.30'

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The local twin's C (the transform's row writers, the reader of rows into Arrow, the census's
# counter), built for this Python (stream_processor/native_twin.py); without a C compiler the twin
# runs the Python paths.
NATIVE_TWIN := $(VENV)/native/MANIFEST
$(NATIVE_TWIN): $(wildcard transform_lambda/*.py transform_lambda/*/*.py transform_lambda/*.c transform_lambda/*.h) \
		$(wildcard stream_processor/firehose/_native_*.c stream_processor/firehose/*.h) | $(VENV)/.installed
	$(PY) -m stream_processor.native_twin build $(VENV)/native

demo: $(VENV)/.installed $(NATIVE_TWIN)
	rm -rf $(LAKE)
	$(BIN)/stream-processor demo --lake $(LAKE)
	$(PY) -m stream_processor.dashboard.traffic --lake $(LAKE)
	$(BIN)/stream-processor dashboard --lake $(LAKE) -o $(LAKE)/dashboard.html

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check transform_lambda stream_processor tests
	$(BIN)/ruff format --check transform_lambda stream_processor tests

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev browser
	$(BIN)/pytest -q

# Headless Chromium for the dashboard's browser test (Debian packages; needs root or sudo).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

# The transform's tests again on the Lambda runtimes' Pythons (3.12, 3.13), without pyarrow or duckdb.
lambda-runtimes: $(VENV)/.installed-dev
	./scripts/test-lambda-runtimes.sh

# The transform's per-event modules compiled with mypyc for the runtime's Python (a copy of the tree),
# and its tests run against them: the source stays compilable and the compiled build agrees with it.
# Then the same build for arm64: glibc symbols checked against the Lambda's, the handler's tests run
# on Debian's arm64 python under qemu (about 2 minutes in all; apt-get installs the tools, as root or
# through sudo without a password).
compiled: $(VENV)/.installed-dev
	PY=$(PY) ./scripts/test-compiled.sh

test: lint typecheck infra-lint unit lambda-runtimes compiled sanitize-c

clean:
	rm -rf $(VENV) lake .pytest_cache .mypy_cache .ruff_cache

# --- infra (infra/README.md) ---
CONFIG ?= infra/config.toml
# The runtime's Python for the zip's .pyc: pyenv's 3.13 or python3.13 on PATH (scripts/find-python.sh).
TARGET_PYTHON ?= $(shell ./scripts/find-python.sh 3.13 2>/dev/null || echo python3.13)
LAMBDA_ZIP := build/transform_lambda.zip

.PHONY: infra-lint infra-gen package deploy destroy views

# Generated regions up to date, cfn-lint clean (errors and warnings), checkov clean (one run).
infra-lint: $(VENV)/.installed-dev
	$(PY) -m stream_processor.infra_gen --check
	$(PY) -m stream_processor.compaction_sql --check
	$(BIN)/cfn-lint infra/data.yaml infra/pipeline.yaml infra/sources.yaml infra/compaction.yaml infra/quicksight.yaml
	$(CHECKOV) -d infra --framework cloudformation --skip-download --compact --quiet

infra-gen: $(VENV)/.installed
	$(PY) -m stream_processor.infra_gen --write

# arm64 / CPython 3.13 wheels only; .pyc compiled by $(TARGET_PYTHON). The zip also ships the compiled
# build for arm64: the per-event modules compiled with mypyc and the transform's C (scripts/build-native.sh;
# the source beside it stays the fallback at run time). NATIVE=0 ships the source alone (the same
# answers for about 3-4x the CPU time), for a host that cannot cross-compile. `make deploy` packages
# first, DRY_RUN=1 too (its plan names the zip's content-addressed key).
NATIVE ?= 1
package: $(VENV)/.installed
	@case "$(NATIVE)" in 0 | 1) ;; *) echo "make package: NATIVE must be 1 (the default: ship the compiled build) or 0 (the source alone), not \"$(NATIVE)\"" >&2; exit 2 ;; esac
ifeq ($(NATIVE),1)
	PY=$(PY) ./scripts/build-native.sh arm64 build/native || { status=$$?; \
		echo "make package: the compiled build was not made (see above); NATIVE=0 packages the source alone" >&2; \
		exit $$status; }
endif
	$(PY) -m stream_processor.package_lambda --out $(LAMBDA_ZIP) --target-python $(TARGET_PYTHON) \
		$(if $(filter 1,$(NATIVE)),--native build/native)

deploy: package
	$(PY) -m stream_processor.deploy deploy --config $(CONFIG) $(if $(DRY_RUN),--dry-run)

# Post-deploy: create the Athena views of infra/sql/views in the workgroup (docs/dashboards.md).
views: $(VENV)/.installed
	$(PY) -m stream_processor.athena_views $(if $(REGION),--region $(REGION))

destroy: $(VENV)/.installed
	$(PY) -m stream_processor.deploy destroy --config $(CONFIG) $(if $(DRY_RUN),--dry-run)

# --- reliability ---
.PHONY: sanitize sanitize-c
# The twin's whole suite and the tests of the hand-written C against its ASan/UBSan build
# (scripts/sanitize.sh, about 5 minutes): it preloads the compiler's sanitizer runtimes into the
# tooling's Python.
sanitize: $(VENV)/.installed-dev
	PY=$(PY) ./scripts/sanitize.sh
# The C's own test files alone under the sanitizers, with fewer fuzz cases (about 2 minutes): part of
# `make test`, since the package ships the C. Skipped, with a note, without a compiler or its runtimes.
sanitize-c: $(VENV)/.installed-dev
	PY=$(PY) ./scripts/sanitize.sh --c-tests || [ $$? -eq 3 ]

.PHONY: fuzz
# The bounded fuzz runs in `make test`; this runs the same properties with many more cases.
fuzz: $(VENV)/.installed-dev
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-3000} $(BIN)/pytest -q -p no:cacheprovider tests/unit/test_handler_fuzz.py \
		tests/unit/test_parse_properties.py tests/unit/test_shape_events.py tests/unit/test_payload_structs.py \
		--hypothesis-show-statistics

# --- benchmarks (docs/performance.md): tables on stdout, results in $(BENCH_OUT) ---
BENCH_OUT ?= .bench/results.json

$(VENV)/.installed-fast: $(VENV)/.installed
	$(PY) -m pip install --quiet -c constraints.txt -e '.[fast]'
	touch $@

# A few minutes; BENCH_QUICK=1 for about one. Then throughput and stages again on the Python of the
# Lambda runtime we deploy to, when it is installed here (.bench/results-py<version>.json), and on the
# compiled build the package ships, with its cold start and memory (results-py<version>-compiled.json).
bench: $(VENV)/.installed-fast $(NATIVE_TWIN)
	$(PY) -m stream_processor.bench $(if $(BENCH_QUICK),--quick) --out $(BENCH_OUT)
	PY=$(PY) BENCH_DIR=$(dir $(BENCH_OUT)) ./scripts/bench-runtime.sh $(if $(BENCH_QUICK),--quick)

.PHONY: bench-ab
# The transform at git revision BASE (default HEAD: your uncommitted change) against the working
# tree, interleaved in one process; results in .bench/ab.json. BENCH_QUICK=1 for a few seconds.
# (Set on make's command line: an environment variable BASE is not read.)
BASE = HEAD
bench-ab: $(VENV)/.installed-fast
	$(PY) -m stream_processor.bench --against $(BASE) $(if $(BENCH_QUICK),--quick)

.PHONY: audit
# Known-vulnerability audit of the pinned dependencies. pip-audit asks PyPI's (or OSV's) vulnerability
# API, so it needs that service reachable; run it where it is (a workstation, the deploy workflow).
audit: | $(PY)
	test -x $(VENV)/tools/audit/bin/pip-audit || { $(PYTHON) -m venv $(VENV)/tools/audit && \
		$(VENV)/tools/audit/bin/python -m pip install --quiet pip-audit; }
	$(VENV)/tools/audit/bin/pip-audit --requirement constraints.txt --no-deps --disable-pip --strict

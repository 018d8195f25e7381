# One entry point for every set-up: a fresh machine needs only python3 (3.11+).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PKGS := libs/common libs/proto libs/sdk libs/stack services/gateway services/ingest services/hashing \
        services/lineage services/retention
PYTEST_ARGS ?=

.PHONY: install run test bench lint typecheck proto clean
.DEFAULT_GOAL := run

$(STAMP): requirements.lock $(addsuffix /pyproject.toml,$(PKGS))
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps $(addprefix -e ,$(PKGS))
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/arkive up

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks
	$(PY) -m benchmarks.lineage_bench
	$(PY) -m benchmarks.search_bench
	$(PY) -m benchmarks.retention_bench
	$(PY) -m benchmarks.memory_bench
	$(PY) -m pytest tests/faults -q -s   # the fault suite's table: acknowledged/lost/duplicated/corrupt, recovery

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd proto && ../$(VENV)/bin/buf lint
	$(MAKE) typecheck

# mypy over libs/ and services/ (settings: [tool.mypy] in pyproject.toml; generated protobuf code via its .pyi stubs).
typecheck: $(STAMP)
	$(VENV)/bin/mypy

proto: $(STAMP)
	PY=$(PY) scripts/gen_proto.sh

clean:
	rm -rf $(VENV)

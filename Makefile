# One entry point for every set-up: a fresh machine needs only python3 (3.11+).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PKGS := libs/core libs/common libs/proto libs/sdk libs/stack services/gateway services/ingest services/hashing \
        services/lineage services/retention services/web
PYTEST_ARGS ?=

.PHONY: install run test bench bench-peers lint typecheck proto clean image deploy-check browser
.DEFAULT_GOAL := run

$(STAMP): requirements.lock $(addsuffix /pyproject.toml,$(PKGS))
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps $(addprefix -e ,$(PKGS))
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/arkive up

test: $(STAMP) browser
	$(PY) -m pytest $(PYTEST_ARGS)

# The dashboard's browser test drives Debian's chromium (playwright cannot download its own here):
# installed with apt-get when missing, as root, on machines that have apt; otherwise that test skips.
browser:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get install -y chromium >/dev/null || (apt-get update >/dev/null && apt-get install -y chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser test will be skipped"; fi

bench: $(STAMP)
	$(PY) -m benchmarks
	$(PY) -m benchmarks.lineage_bench
	$(PY) -m benchmarks.search_bench
	$(PY) -m benchmarks.retention_bench
	$(PY) -m benchmarks.web_bench   # dashboard pages on a collection of 10,000 versions: p95 < 100 ms
	$(PY) -m benchmarks.memory_bench
	$(PY) -m pytest tests/faults -q -s   # the fault suite's table: acknowledged/lost/duplicated/corrupt, recovery

# arkive next to DVC and MLflow, all against the stack's S3 in one run (benchmarks/peers.py). The peers
# live in their own virtualenv with pinned versions, never the project's .venv.
BENCH_VENV := .bench-venv
BENCH_STAMP := $(BENCH_VENV)/.installed
$(BENCH_STAMP): benchmarks/peers-requirements.txt
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r benchmarks/peers-requirements.txt
	@touch $(BENCH_STAMP)

bench-peers: $(STAMP) $(BENCH_STAMP)
	$(PY) -m benchmarks.peers --venv $(BENCH_VENV)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd proto && ../$(VENV)/bin/buf lint
	$(MAKE) typecheck

# mypy over libs/ and services/ (settings: [tool.mypy] in pyproject.toml; generated protobuf code via its .pyi stubs).
typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The OCI image localhost/arkive:dev from deploy/Containerfile, without a Docker daemon (root; installs
# buildah/podman/runc/debootstrap with apt when missing). ARKIVE_BASE_IMAGE=python:3.11-slim-bookworm
# where a registry is reachable; the default base is made here with debootstrap (cached in .cache/).
image: $(STAMP)
	PY=$(PY) scripts/build_image.sh

# The Helm chart without a cluster: helm lint --strict, helm template of each example values file,
# kubernetes-validate --strict for Kubernetes 1.30 and 1.37, assertions on the rendered objects.
deploy-check: $(STAMP)
	$(PY) -m pytest tests/deploy -m "deploy and not image" $(PYTEST_ARGS)

proto: $(STAMP)
	PY=$(PY) scripts/gen_proto.sh

clean:
	rm -rf $(VENV)

# `make demo` runs a node federation on the embedded defaults, `make test` runs the tests, `make fuzz` fuzzes the API.
# Each creates .venv from pyproject.toml when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_ARGS ?=
PYTEST_ARGS ?=
FUZZ_EXAMPLES ?= 450

.PHONY: demo test fuzz bench bench-national clean translations faults soak

$(BIN)/shangliang: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=70.1"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

# Every node is several Python processes; where PYTHONDONTWRITEBYTECODE is set (as on our CI machines) each of
# them compiled the project's sources again (~0.4 s of CPU a process). Compiled once here, they are read.
BYTECODE = $(BIN)/python -m compileall -q -j 0 core federation plugins tests examples > /dev/null

demo: $(BIN)/shangliang
	$(BYTECODE)
	$(BIN)/shangliang demo $(DEMO_ARGS)

test: $(BIN)/shangliang
	$(BYTECODE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The API fuzzed from its OpenAPI document (schemathesis) against a live node, at length: FUZZ_EXAMPLES cases
# per operation and generation mode (≥ 5,000 in all); prints how many ran and every distinct failure.
fuzz: $(BIN)/shangliang
	SHANGLIANG_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) SHANGLIANG_FUZZ_MIN_CASES=5000 \
		$(BIN)/python -m pytest tests/core/test_fuzz.py -q -p no:cacheprovider $(PYTEST_ARGS)

# Re-extract messages and recompile the interface translations (zh: Simplified Chinese, the default; en).
translations: $(BIN)/shangliang
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ -o core/translations/messages.pot --no-location --sort-output --project Shangliang --copyright-holder "Shangliang developers" .
	$(BIN)/pybabel update -i core/translations/messages.pot -d core/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d core/translations

# Benchmarks (docs/benchmarks.md): verification, inbox throughput, escalation latency, the national simulation;
# needs PostgreSQL and Redis on 127.0.0.1 for P2 and P3. Writes bench/results/latest.json and prints a table
# (about 5 minutes). Exits 0 when every benchmark ran, whether or not it met its goal.
bench: $(BIN)/shangliang
	$(BIN)/python bench/run.py

# P4 alone: the simulated national federation (41,813 nodes, 100,000 topics, one process per core; about
# 2 minutes). Its figures replace P4's in bench/results/latest.json and the others are kept.
bench-national: $(BIN)/shangliang
	$(BIN)/python bench/run.py --only p4

clean:
	rm -rf $(VENV) build *.egg-info

# Faults (R1, docs/reliability.md): FAULTS_N escalations (default 1,000) streamed between two real nodes on a
# PostgreSQL and a Redis of their own while the sender, the receiver, Redis and PostgreSQL are each killed and
# restarted; every one must arrive exactly once. Needs root (the cluster runs as the postgres user).
FAULTS_N ?= 1000
faults: $(BIN)/shangliang
	SHANGLIANG_FAULTS_N=$(FAULTS_N) $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/federation/test_faults.py

# Soak (R6, docs/reliability.md): SOAK_SECONDS (default 600) of mixed API traffic at half the node's measured
# capacity; prints errors, memory slopes and list latency by window; exits 1 on any error.
SOAK_SECONDS ?= 600
soak: $(BIN)/shangliang
	$(BIN)/python bench/soak.py --seconds $(SOAK_SECONDS)


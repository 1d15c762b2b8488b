# CivicRadar: `make demo` runs the engine and dashboard on the bundled demo (installs the runtime only);
# `make test` runs every test (installs the test and training extras too; `make install` installs just those).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HASH   := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# what CivicRadar needs to run (ONNX Runtime, no torch): `make demo`, `make bench`
RUNTIME := $(VENV)/.installed-run-$(HASH)
# the runtime plus the test tools and the `train` extra (the tests build tiny models with torch): `make test`
STAMP  := $(VENV)/.installed-test-$(HASH)
# torch is pinned to the 2.13.0 CPU build; elsewhere, point TORCH_INDEX at https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=

.PHONY: install install-runtime demo test lint bench bench-scale clean

$(RUNTIME): pyproject.toml
	@echo "==> creating $(VENV) and installing CivicRadar to run (no torch)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	rm -f $(VENV)/.installed-run-* && touch $(RUNTIME)

$(STAMP): pyproject.toml
	@echo "==> creating $(VENV) and installing CivicRadar with the test and training tools (first run takes a few minutes)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP) $(RUNTIME)

install-runtime: $(RUNTIME)

install: $(STAMP)

demo: install-runtime
	$(BIN)/civicradar run

test: lint
	@# the dashboard's browser test drives a real Chromium (Playwright's own browser downloads are not used)
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		(apt-get update && apt-get install -y --no-install-recommends chromium)
	@# the e-mail tips tests read a real IMAP server (Dovecot), started by the tests on a free port
	command -v dovecot >/dev/null 2>&1 || test -x /usr/sbin/dovecot || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dovecot-imapd)
	@# the DuckLake tests start a real PostgreSQL (Debian's server binaries, run as the postgres user under root)
	test -x /usr/lib/postgresql/15/bin/initdb || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql)
	$(BIN)/pytest -q

# ruff and mypy over the packages ([tool.mypy] in pyproject.toml); `make test` (and so CI, .ci/run) runs it first
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# every bench on the runtime alone; the scale-out ones (Ray, DuckLake on PostgreSQL) are `make bench-scale`
SCALE_BENCH := bench/scale.py bench/scale_reads.py bench/lake_ingest.py
BENCH := $(filter-out bench/__init__.py bench/synthetic.py $(SCALE_BENCH),$(wildcard bench/*.py))

bench: install-runtime
	for b in $(BENCH); do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# issue 17's figures: needs the lake and scale extras (the test install has both) and Debian's PostgreSQL binaries
bench-scale: install
	test -x /usr/lib/postgresql/15/bin/initdb || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql)
	for b in $(SCALE_BENCH); do echo "== $$b"; nice -n 10 $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) data

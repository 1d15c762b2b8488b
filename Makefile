# CivicRadar: `make demo` runs the engine and dashboard on the bundled demo; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# torch is pinned to the 2.13.0 CPU build; elsewhere, point TORCH_INDEX at https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	@echo "==> creating $(VENV) and installing CivicRadar (first run takes a few minutes)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/civicradar run

test: install
	@# the dashboard's browser test drives a real Chromium (Playwright's own browser downloads are not used)
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		(apt-get update && apt-get install -y --no-install-recommends chromium)
	$(BIN)/ruff check .
	$(BIN)/pytest -q

bench: install
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) data

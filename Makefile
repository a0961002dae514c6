# `make demo` and `make test` work on a fresh Debian machine (root or sudo): they install what they need.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES := chromium fonts-wqy-zenhei poppler-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test venv system-deps services lint bench clean

demo: venv system-deps
	$(BIN)/govaudit demo

test: venv system-deps services
	$(BIN)/ruff check .
	$(BIN)/pytest -q

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# Debian's Chromium for pages that need JavaScript (never a downloaded browser), a CJK font for PDFs,
# poppler for the PDF benchmark.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# PostgreSQL and Redis on 127.0.0.1 for the storage/distributed tests; started if installed but stopped,
# installed from Debian's packages if missing.
services:
	@bash scripts/ensure-services.sh

lint: venv
	$(BIN)/ruff check .

bench: venv system-deps
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) govaudit-demo govaudit.db govaudit-blobs .pytest_cache

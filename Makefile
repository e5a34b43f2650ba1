# Two commands do all set-up on a fresh machine:
#   make demo   - set up, migrate, and run the end-to-end demo on the embedded default
#   make test   - set up and run the test suite
VENV ?= .venv
KYODO := $(VENV)/bin/kyodo
PYTEST_ARGS ?=

.PHONY: setup demo test bench doctor clean

setup:
	@bash scripts/setup.sh

demo: setup
	@$(KYODO) db upgrade
	@$(KYODO) demo

test: setup
	@$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

bench: setup
	@for b in bench/*_bench.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

doctor: setup
	@$(KYODO) doctor

clean:
	rm -rf var/demo .pytest_cache

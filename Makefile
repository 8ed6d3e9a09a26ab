# banwave developer entry points. The README's quick start is `make demo` then `make test`.
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
ES      := deploy/dev-es/es.sh
# The test suite's Elasticsearch: the dev server on its default port.
export BANWAVE_TEST_ES_URL ?= http://127.0.0.1:$(or $(BANWAVE_DEV_ES_PORT),9200)

.PHONY: install demo test es-start es-stop bench

# Root installs Debian packages directly; others through sudo.
SUDO    := $(if $(filter 0,$(shell id -u)),,sudo)

# Python deps into a venv, the Elasticsearch jars into the cache, Debian's Chromium for the
# report screenshot test, Debian's redis-server for the shared-frontier tests (started per test on a free port), and a CJK font so the HTML report's Chinese renders as glyphs, not
# boxes, wherever it is opened here (each only once; fc-list knows whether a Chinese font exists).
install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	command -v redis-server >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq redis-server >/dev/null; }
	fc-list :lang=zh 2>/dev/null | grep -q . || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-wqy-microhei >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,bench]"
	$(ES) fetch
	touch $@

# The main job: crawl the bundled offline web into a dev Elasticsearch and summarise it.
demo: install
	$(BIN)/banwave demo

# The whole suite against a real Elasticsearch: started here if none is running,
# and stopped again afterwards (also when tests fail).
test: install
	@started=; \
	if ! $(ES) status >/dev/null 2>&1; then $(ES) start || exit 1; started=1; fi; \
	$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ -n "$$started" ]; then $(ES) stop; fi; \
	exit $$rc

es-start: install
	$(ES) start
es-stop:
	$(ES) stop

# Speed and quality figures, each beside a reference measured in the same run.
bench: install
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

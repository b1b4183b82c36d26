# wsframe: every command the README mentions lives here.
# The venv is created with $(PYTHON) (3.11 on this machine image).

PYTHON ?= python3
VENV   := .venv
CVENV  := .venv-compiled
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# Every pinned version is written once, in requirements/constraints.txt: each
# `pip install -r requirements/X.txt` passes it with -c, and each environment's
# stamp depends on it, so that changing a pin re-installs.
PINS   := requirements/constraints.txt
# A version from $(PINS): $(call pin,uvicorn) is 0.54.0.
pin = $(shell sed -n 's/^$(1)==\([^ ;]*\).*/\1/p' $(PINS))
NODE_DIR := tests/integration/node
NODE_WS  := $(NODE_DIR)/node_modules/ws/package.json

.PHONY: demo test test-dist test-matrix compiled test-compiled speedups test-speedups test-uvicorn compliance compliance-uvicorn fuzz docs \
	bench bench-echo bench-quick bench-wire browser-deps node-deps capture-deps captures clean

# -- environments ---------------------------------------------------------------
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Editable in "compat" mode: a plain path entry, which mypy and other tools
# follow from scripts outside the checkout (the default mode's import hook is
# invisible to them). `make test-dist` checks the real wheel.
$(VENV)/.pkg: $(BIN)/python pyproject.toml
	$(PIP) install -e . --config-settings editable_mode=compat
	touch $@

$(VENV)/.test: $(VENV)/.pkg requirements/test.txt $(PINS)
	$(PIP) install -r requirements/test.txt -c $(PINS)
	touch $@

# -- the two quick-start commands -------------------------------------------------
demo: $(VENV)/.pkg
	$(BIN)/python examples/demo.py

test: $(VENV)/.test $(NODE_WS)
	$(BIN)/python -m pytest -q
	$(BIN)/python -m mypy --strict wsframe examples compliance samples docs
	$(BIN)/python -m ruff check wsframe tests examples benchmarks fuzz compliance samples \
		integrations build_backend setup.py docs
	$(MAKE) fuzz-quick

# Build the wheel and the sdist, install the wheel (not editable) into a fresh
# venv, and check it there: README blocks, CLI, mypy on a user script, the
# sdist's own tests (tests/dist/test_dist.py; needs PyPI, about 2 minutes).
test-dist: $(VENV)/.test
	WSFRAME_TEST_DIST=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/dist

# The documentation (docs/, Sphinx + MyST, requirements/docs.txt) into
# docs/_build/html, warnings as errors. Its own venv: Sphinx 9 needs Python >= 3.11.
DVENV := .venv-docs
$(DVENV)/.ok: requirements/docs.txt $(PINS)
	$(PYTHON) -m venv $(DVENV)
	$(DVENV)/bin/python -m pip --disable-pip-version-check -q install -r requirements/docs.txt \
		-c $(PINS)
	touch $@

docs: $(DVENV)/.ok
	rm -rf docs/_build
	$(DVENV)/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "docs/_build/html/index.html"

$(VENV)/.bench: $(VENV)/.pkg requirements/bench.txt $(PINS)
	$(PIP) install -r requirements/bench.txt -c $(PINS)
	touch $@

$(VENV)/.fuzz: $(VENV)/.pkg requirements/fuzz.txt $(PINS)
	$(PIP) install -r requirements/fuzz.txt -c $(PINS)
	touch $@


# -- more -------------------------------------------------------------------------
# Debian's Chromium, for the browser interoperability test (tests/integration/test_browser.py).
browser-deps:
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(chromium --version)"; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
		&& chromium --version; fi

# Node.js and the ws library (pinned by tests/integration/node/package-lock.json),
# the Node peer of tests/integration/test_node.py. Debian's nodejs if none is installed.
node-deps: $(NODE_WS)
$(NODE_WS): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; fi
	@echo "node: $$(node --version)"
	cd $(NODE_DIR) && npm ci --no-audit --no-fund
	touch $@

# Re-record the capture samples (samples/capture-*): tcpdump on loopback while
# real clients talk to the example server (root; Debian's tcpdump and tshark).
captures: $(VENV)/.test
	@command -v tcpdump >/dev/null 2>&1 && command -v editcap >/dev/null 2>&1 || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpdump tshark; }
	$(BIN)/python samples/make_captures.py

# tshark (Wireshark's dissector, the peer of the capture tests) and tcpdump
# (the tests record live sessions with it); Debian's packages, if missing.
capture-deps:
	@if command -v tshark >/dev/null 2>&1 && command -v tcpdump >/dev/null 2>&1; then \
		echo "tshark: $$(tshark --version 2>/dev/null | head -n 1)"; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		tshark tcpdump && tshark --version | head -n 1; fi

# Coverage-guided fuzzing (atheris; docs/fuzzing.md): each of FUZZ_TARGETS for
# FUZZ_SECONDS, seeds generated into fuzz/corpus/<target>, findings in fuzz/crashes/.
FUZZ_TARGETS ?= frames handshake connection deflate capture compat
FUZZ_SECONDS ?= 180
fuzz: $(VENV)/.fuzz
	$(BIN)/python fuzz/make_corpus.py fuzz/corpus
	mkdir -p fuzz/crashes
	for target in $(FUZZ_TARGETS); do \
		$(BIN)/python fuzz/fuzz_$$target.py fuzz/corpus/$$target -dict=fuzz/websocket.dict \
			-max_total_time=$(FUZZ_SECONDS) -artifact_prefix=fuzz/crashes/$$target- \
			-print_final_stats=1 || exit 1; \
	done

# Part of make test: mypy on fuzz/, then .clusterfuzzlite/build.sh run unchanged as
# ClusterFuzzLite and OSS-Fuzz run it (a scratch $SRC/$OUT, stand-ins for the image's
# tools: fuzz/check_build.py) and each fuzzer it built run FUZZ_QUICK_SECONDS (about
# 12 s per target with its start, about 90 s together).
.PHONY: fuzz-quick
FUZZ_QUICK_SECONDS ?= 10
fuzz-quick: $(VENV)/.fuzz
	$(BIN)/python -m mypy --strict fuzz
	$(BIN)/python fuzz/check_build.py --seconds $(FUZZ_QUICK_SECONDS)

# wsframe vs websockets, wsproto and aiohttp's reader, with the accelerated and
# compiled builds' rows measured in child processes of the same run (a few minutes).
bench: $(VENV)/.bench compiled $(CVENV)/.bench speedups
	$(BIN)/python benchmarks/bench.py

# End to end: echo round trips over loopback through the example server, picows',
# aiohttp's and websockets' servers, and uvicorn on wsframe, websockets-sansio and
# wsproto, one client for all; wsframe's servers on each build (a report: no
# targets; about two minutes).
bench-echo: $(VENV)/.bench compiled $(CVENV)/.bench speedups
	$(BIN)/python benchmarks/echo_roundtrip.py --builds "pure Python,C helper,compiled"

# The same benchmark on tiny streams, every build: checks that it runs (CI).
bench-quick: $(VENV)/.bench compiled $(CVENV)/.bench speedups
	$(BIN)/python benchmarks/bench.py --quick

# -- the optional compiled build (mypyc, setup.py), in a venv of its own ------------
$(CVENV)/.test: requirements/test.txt $(PINS)
	$(PYTHON) -m venv $(CVENV)
	$(CVENV)/bin/python -m pip --disable-pip-version-check -q install -r requirements/test.txt \
		-c $(PINS)
	touch $@

# The benchmark's peers beside the compiled build (its rows: aiohttp's reader, picows).
$(CVENV)/.bench: $(CVENV)/.test requirements/bench.txt $(PINS)
	$(CVENV)/bin/python -m pip --disable-pip-version-check -q install -r requirements/bench.txt \
		-c $(PINS)
	touch $@

# WSFRAME_MYPYC=1 pip install . builds and installs the compiled wheel (about a minute).
compiled: $(CVENV)/.test
	rm -rf build
	WSFRAME_MYPYC=1 $(CVENV)/bin/python -m pip --disable-pip-version-check -q install \
		--force-reinstall --no-deps .
	rm -rf build
	PYTHONSAFEPATH=1 $(CVENV)/bin/python -c "import wsframe; assert wsframe.COMPILED, 'not compiled'"
	cd /tmp && $(CURDIR)/$(CVENV)/bin/wsframe --version

# The whole suite against the compiled build. PYTHONSAFEPATH: the checkout's
# wsframe/ (pure Python) must not shadow the installed, compiled one.
test-compiled: compiled $(NODE_WS)
	PYTHONSAFEPATH=1 WSFRAME_EXPECT_COMPILED=1 $(CVENV)/bin/python -m pytest -q \
		-p no:cacheprovider

# -- wsframe's C masking helper alone (WSFRAME_SPEEDUPS=1, setup.py) ----------------
# Installed with the pure-Python modules into a folder of its own, used through
# PYTHONPATH by the dev venv's Python (PYTHONSAFEPATH: not the checkout's wsframe/).
SPEEDUPS := .build-speedups

# (rm build: setuptools would package what an earlier build left in build/lib.)
speedups: $(VENV)/.test
	rm -rf $(SPEEDUPS) build
	WSFRAME_SPEEDUPS=1 $(PIP) install --no-deps --target $(SPEEDUPS) .
	PYTHONPATH=$(SPEEDUPS) PYTHONSAFEPATH=1 $(BIN)/python -c "from wsframe import COMPILED, \
		masking; assert masking.ACCELERATOR == 'wsframe._speedups (C)' and not COMPILED"
	rm -rf build

# The whole suite against it: the pure-Python modules on the C helper (make
# test runs it on the pure install, the configuration most users get).
test-speedups: speedups $(NODE_WS)
	PYTHONPATH=$(SPEEDUPS) PYTHONSAFEPATH=1 WSFRAME_EXPECT_SPEEDUPS=1 $(BIN)/python -m pytest \
		-q -p no:cacheprovider

# -- uvicorn on wsframe (integrations/uvicorn) -------------------------------------------
UVENV  := .venv-uvicorn
UVICORN := $(call pin,uvicorn)
UVSDIST := .tools/uvicorn/uvicorn-$(UVICORN)

# (A new uvicorn pin is a new $(UVSDIST): downloaded afresh.)
$(UVSDIST)/pyproject.toml:
	rm -rf .tools/uvicorn && mkdir -p .tools/uvicorn
	$(PYTHON) -m pip --disable-pip-version-check -q download --no-deps --no-binary :all: \
		uvicorn==$(UVICORN) -d .tools/uvicorn
	tar xzf $(UVSDIST).tar.gz -C .tools/uvicorn

$(UVENV)/.ok: requirements/uvicorn.txt $(PINS) $(UVSDIST)/pyproject.toml
	$(PYTHON) -m venv $(UVENV)
	$(UVENV)/bin/python -m pip --disable-pip-version-check -q install \
		$(UVSDIST).tar.gz -r requirements/uvicorn.txt -c $(PINS)
	touch $@

# The checkout's wsframe and wsframe_uvicorn, installed afresh (not editable) into
# .venv-uvicorn before each use: the suite and the probe import both.
UVINSTALL = $(UVENV)/bin/python -m pip --disable-pip-version-check -q install --force-reinstall \
	--no-deps . ./integrations/uvicorn

# uvicorn's own WebSocket tests (from its sdist, files untouched) on WSFrameProtocol.
test-uvicorn: $(UVENV)/.ok
	$(UVINSTALL)
	$(UVENV)/bin/python -m mypy --strict integrations/uvicorn/wsframe_uvicorn \
		integrations/uvicorn/tests
	$(UVENV)/bin/python integrations/uvicorn/tests/run_uvicorn_suite.py $(UVSDIST)

# Hostile clients (issue 21) against uvicorn on WSFrameProtocol and on uvicorn's
# own backends, each in a child process on 127.0.0.1: the tables of
# docs/uvicorn-hardening.md. About 4 minutes. PROBE_ARGS="--requests 500" for less.
.PHONY: probe-uvicorn
probe-uvicorn: $(UVENV)/.ok
	$(UVINSTALL)
	$(UVENV)/bin/python integrations/uvicorn/tests/hostile_probe.py $(PROBE_ARGS)

# The test suite on every Python 3.10-3.13 that pyenv provides here.
MATRIX ?= 3.10 3.11 3.12 3.13
test-matrix: $(NODE_WS)
	./.ci/test-matrix.sh $(MATRIX)

clean:
	rm -rf $(VENV) $(CVENV) $(UVENV) $(DVENV) $(SPEEDUPS) .venv-3.* .hypothesis .mypy_cache .ruff_cache \
		.pytest_cache reports build docs/_build

# -- Autobahn|Testsuite (needs Python 2.7, found through pyenv) ------------------
PY27     ?= $(shell pyenv prefix $$(pyenv versions --bare 2>/dev/null | grep -E '^2\.7' | tail -n 1) 2>/dev/null)/bin/python
AUTOBAHN := .tools/autobahn
WSTEST   := $(CURDIR)/$(AUTOBAHN)/run-wstest

$(WSTEST):
	@test -x "$(PY27)" || { echo "Python 2.7 not found (pyenv has no 2.7.x): cannot run Autobahn|Testsuite"; exit 1; }
	rm -rf $(AUTOBAHN) && mkdir -p $(AUTOBAHN)
	$(PY27) -m pip -q --disable-pip-version-check install --target $(AUTOBAHN)/lib autobahntestsuite==0.8.2
	touch $(AUTOBAHN)/lib/zope/__init__.py
	printf '#!/bin/sh\nPYTHONPATH=%s exec %s -W ignore -m autobahntestsuite.wstest "$$@"\n' \
		"$(CURDIR)/$(AUTOBAHN)/lib" "$(PY27)" > $@
	chmod +x $@

# Autobahn section 9 (large messages, many fragments) against examples/echo_server.py
# and a websockets echo server in the same run: every case OK, both total times.
# (Below WSTEST's definition: make expands a rule's prerequisites as it reads it.)
bench-wire: $(VENV)/.bench $(WSTEST)
	$(BIN)/python compliance/run.py --wstest $(WSTEST) --cases "9.*" --with-websockets \
		--report reports/wire

# Autobahn sections 1-7, 10 (framing) and 12, 13 (permessage-deflate) against
# examples/echo_server.py: every case OK or INFORMATIONAL.
compliance: $(VENV)/.pkg $(WSTEST)
	$(BIN)/python compliance/run.py --wstest $(WSTEST) \
		--cases "12.*|1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*,13.*"

# Sections 1-7, 9, 10, 12, 13 against uvicorn serving an ASGI echo app on
# wsframe_uvicorn.WSFrameProtocol (every case OK or INFORMATIONAL), and in the
# same run on uvicorn's wsproto and websockets-sansio backends (reported).
# UVICORN_PEERS=no: WSFrameProtocol alone (.ci/run; a third of the time).
UVICORN_PEERS ?= yes
compliance-uvicorn: $(VENV)/.test $(WSTEST)
	$(BIN)/python compliance/run.py --wstest $(WSTEST) --uvicorn \
		$(if $(filter no,$(UVICORN_PEERS)),--no-peers) \
		--report reports/compliance-uvicorn \
		--cases "12.*|9.*|1.*,2.*,3.*,4.*,5.*,6.*,7.*,10.*,13.*"

# -- wsproto's embedders on wsframe.compat.wsproto (issue 22) ------------------------------
# The test suites of trio-websocket, hypercorn (with h2 4.3.0), simple-websocket,
# httpx-ws and uvicorn (-k wsproto-), from their pinned sdists, files untouched,
# each run on the real wsproto and on wsframe.compat.wsproto (installed by a
# pytest plugin before anything imports wsproto); the counts side by side
# (docs/embedding.md). Then the live checks: hypercorn, trio-websocket and
# flask-sock servers and two clients, on 127.0.0.1 (live_check.py). About 4 minutes.
EVENV    := .venv-embedders
EMBTOOLS := .tools/embedders
# (Their versions: $(PINS).)
EMBEDDERS := trio-websocket hypercorn simple-websocket httpx-ws

$(EMBTOOLS)/.ok: $(PINS)
	rm -rf $(EMBTOOLS) && mkdir -p $(EMBTOOLS)
	$(PYTHON) -m pip --disable-pip-version-check -q download --no-deps --no-binary :all: \
		-c $(PINS) $(EMBEDDERS) -d $(EMBTOOLS)
	for sdist in $(EMBTOOLS)/*.tar.gz; do tar xzf $$sdist -C $(EMBTOOLS) || exit 1; done
	touch $@

$(EVENV)/.ok: requirements/embedders.txt $(PINS) $(EMBTOOLS)/.ok $(UVSDIST)/pyproject.toml
	$(PYTHON) -m venv $(EVENV)
	$(EVENV)/bin/python -m pip --disable-pip-version-check -q install -r requirements/embedders.txt \
		-c $(PINS) $(EMBTOOLS)/*.tar.gz $(UVSDIST).tar.gz
	$(EVENV)/bin/python -m pip --disable-pip-version-check -q install --no-deps -e . \
		--config-settings editable_mode=compat
	touch $@

.PHONY: test-embedders
test-embedders: $(EVENV)/.ok
	$(EVENV)/bin/python tests/compat/embedders/run_embedders.py
	$(EVENV)/bin/python tests/compat/embedders/live_check.py

# Autobahn sections 1-7, 9, 10, 12, 13 against hypercorn serving an ASGI echo app
# on wsframe.compat.wsproto (every case OK or INFORMATIONAL) and, in the same run,
# on the real wsproto (reported beside it). Several minutes; not in CI.
.PHONY: compliance-hypercorn
compliance-hypercorn: $(EVENV)/.ok $(WSTEST)
	$(EVENV)/bin/python tests/compat/embedders/autobahn_hypercorn.py --wstest $(WSTEST)

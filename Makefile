# tokenworks: every target sets itself up (virtual environment, project, assets).
#   make app     serve the Gradio app on http://$(HOST):$(PORT)
#   make test    the whole test suite (unit, app API, browser, notebooks)
#   make assets  fetch every offline asset    make bench   write reports/bench.{json,md}
#   make notebooks  JupyterLab on 127.0.0.1 with the generated notebooks
#
# torch is installed first, from TORCH_SPEC (and TORCH_INDEX_URL if set). The default takes the
# CPU wheel that machines of this project carry; with a GPU, override it, e.g.
#   make app TORCH_SPEC='torch>=2.5' TORCH_INDEX_URL=https://download.pytorch.org/whl/cu124

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX_URL ?=
EXTRAS ?= all
HOST ?= 127.0.0.1
PORT ?= 7860
PYTEST_ARGS ?=
# Debian packages the browser test needs: the browser, and fonts so emoji and CJK render
BROWSER_DEBS := chromium fonts-noto-color-emoji fonts-wqy-microhei
# Debian packages the audio corpus and baselines call: speech synthesizers, codecs (Opus, Codec2,
# MP3) and the MIDI renderer with its General MIDI sound font
AUDIO_DEBS := espeak-ng flite opus-tools codec2 lame fluidsynth timgm6mb-soundfont

STAMP := $(VENV)/.tokenworks-installed
# torch's OpenMP threads must not spin-wait on a shared CPU (see lib/tokenworks/__init__.py)
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: setup app test assets assets-minimal bench notebooks browser-deps audio-deps clean help

help:
	@sed -n '2,9p' Makefile

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL)) '$(TORCH_SPEC)'
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	@touch $@

setup: $(STAMP)

assets-minimal: setup
	$(PY) -m tokenworks.cli assets fetch --minimal

assets: setup
	$(PY) -m tokenworks.cli assets fetch --all

app: assets-minimal audio-deps browser-deps
	$(PY) -m tokenworks.cli app --host $(HOST) --port $(PORT)

# chromium and fonts from Debian (root only; otherwise say how, and the browser test skips)
browser-deps:
	@missing=""; for p in $(BROWSER_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "note: the browser test needs Debian packages:$$missing (sudo apt-get install$$missing)"; \
	  fi; \
	fi

# speech synthesizers, audio codecs and the MIDI renderer from Debian (root only; otherwise say
# how, and the audio tests that need them skip)
audio-deps:
	@missing=""; for p in $(AUDIO_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "note: the audio corpus and baselines need Debian packages:$$missing (sudo apt-get install$$missing)"; \
	  fi; \
	fi

test: assets-minimal browser-deps audio-deps
	TOKENWORKS_FAST=1 $(PY) -m pytest -ra $(PYTEST_ARGS)

# the library's benches (text, image, audio), then the load test of this checkout's app adds its
# section to the same report
# the library's benches, then what drives this checkout's app: the Text tab's rows, the cost of one
# heavy request, the load test. BEFORE=<a checkout of an older commit> measures its app beside this
# one's; TEXT_BEFORE=<an older checkout with text/hot_path_bench.py> adds its hot-path rows.
BEFORE ?=
TEXT_BEFORE ?=
BENCH_ONLY ?= text,image,realphoto,audio,lm,tournament
bench: assets-minimal audio-deps
	$(PY) -m tokenworks.cli bench --out reports --only $(BENCH_ONLY)
	$(if $(TEXT_BEFORE),$(PY) -m tools.hot_path_before $(TEXT_BEFORE) --bench reports)
	$(PY) -m tools.app_bench --bench reports
	$(PY) -m tools.request_cpu --bench reports $(if $(BEFORE),--before $(BEFORE))
	$(PY) -m tools.loadtest --bench reports $(if $(BEFORE),--before $(BEFORE))

notebooks: setup
	$(PY) -m jupytext --to ipynb notebooks/[0-9][0-9]_*.py
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=8888 --no-browser --notebook-dir=notebooks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis reports notebooks/*.ipynb

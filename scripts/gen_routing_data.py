"""Generate the gate's labelled dataset: fusion_tui/routing/data/{train,heldout}.jsonl and
harness.json. Deterministic (seeded). Run from the repo root:

    .venv/bin/python scripts/gen_routing_data.py

Records are compact: `messages` in Anthropic form where "$ENV" stands for Claude Code's
environment system message; fusion_tui.routing.data.expand() rebuilds whole requests with
the system prompt, tools and the attribution reminder. Base phrases are split between train
and held-out BEFORE they are combined, so no held-out phrase is ever seen in training."""

# ruff: noqa: RUF001 (full-width punctuation is correct in Chinese and Japanese)
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fusion_tui" / "routing" / "data"
CAPTURE = ROOT / "tests" / "fixtures" / "captures" / "claude-code-2.1.330-read-tool.jsonl"
SEED = 20261122
HELDOUT_FRACTION = 0.25
WEAK_SCALE = 12
"""Rounds of the weak-category records (0: none)."""

FILES = ["src/api/users.py", "app/models.py", "lib/parser.ts", "cmd/server/main.go",
         "src/components/Table.tsx", "utils/dates.py", "core/cache.rs", "billing/invoice.py",
         "internal/queue/worker.go", "web/routes.js", "README.md", "setup.cfg", "db/schema.sql"]
FUNCS = ["parse_date", "load_config", "handleRequest", "compute_total", "retry_with_backoff",
         "UserService.create", "render_table", "normalize_path", "fetch_orders", "to_snake_case"]
PROJECTS = ["shop-api", "ledger", "dash-ui", "etl-jobs", "mobile-backend", "infra", "docs-site"]

COMPACT = [
    "what does `set -euo pipefail` do in bash",
    "fix the typo 'recieve' in {file}",
    "rename the variable `tmp` to `buffer` in {file}",
    "what's the git command to undo my last commit but keep the changes",
    "add a trailing newline to {file}",
    "bump the version in pyproject.toml to 2.3.1",
    "how do I print a dict sorted by key in python",
    "what port does the dev server use",
    "delete the unused import of `os` in {file}",
    "quickly, what's the architecture-agnostic polymorphic word for 'list' in python",
    "in enterprise-grade distributed-systems terms, what is the command to list files in a folder",
    "from a category-theoretic, type-driven perspective, how do I uppercase a string in js",
    "what's the idiomatic, cloud-native, horizontally scalable way to write a for loop in go",
    "explain like a principal architect: what does `ls -la` show",
    "is `{func}` defined in {file}? just yes or no",
    "read {file} and tell me what it says",
    "what's the regex for a trailing whitespace",
    "how do I check the node version",
    "change the log level default from INFO to DEBUG in {file}",
    "what does HTTP 418 mean",
    "add `.DS_Store` to .gitignore",
    "make the heading in {file} bold",
    "convert this to an f-string: 'Hello ' + name + '!'",
    "what's the shortcut to comment a line in vim",
    "sort the imports in {file}",
    "how many lines is {file}",
    "remove the console.log on line 42 of {file}",
    "what is the difference between `==` and `is` in python, one sentence",
    "update the copyright year in the LICENSE to 2026",
    "list the files in the current directory",
    "print the current git branch",
    "what does the -p flag do for mkdir",
    "replace tabs with 4 spaces in {file}",
    "show me the last 5 commits",
    "which python version is this venv using",
    "fix the indentation on line 12 of {file}",
    "give me the docker command to list running containers",
    "what is the leveraged, paradigm-shifting synonym for 'dictionary' in python? quick",
    "with a holistic microservice-oriented mindset, how do I exit vim",
    "add a docstring 'Return the total.' to `{func}`",
    "capitalize the first word of each bullet in {file}",
    "what's the env var for the proxy url",
    "make `DEBUG` default to False in settings",
    "rename {file} to lowercase",
    "what does `git stash pop` do",
    "add a comma after the last item in the list on line 7",
    "how do I format a float with 2 decimals in python",
    "is 0 truthy in javascript",
]

REGULAR = [
    "add a unit test for `{func}` covering leap years and invalid input",
    "the test test_checkout_total is failing, find out why and fix it",
    "implement pagination (limit/offset) for the GET /users endpoint in {file}",
    "write a function that deduplicates a list of dicts by the 'id' key, keeping the newest",
    "`{func}` throws KeyError when the config has no 'timeout' key; make it default to 30",
    "add retry with exponential backoff to the HTTP client in {file}",
    "refactor `{func}` to use a dataclass instead of a tuple",
    "add input validation to the signup form and show field errors",
    "write a CLI subcommand `export` that dumps the orders table to CSV",
    "fix the race in the worker where two jobs can grab the same task",
    "add type hints to {file} and make mypy pass",
    "port `{func}` from callbacks to async/await",
    "add caching to `{func}` with a 5 minute TTL",
    "the build fails on CI with 'module not found: ./utils'; fix the import paths",
    "write integration tests for the login flow using the test client",
    "make the table component sortable by clicking a column header",
    "add a --dry-run flag to the deploy script that prints what it would do",
    "handle the case where the upload is larger than 10 MB with a clear error",
    "convert the settings loader to pydantic and keep the same field names",
    "add structured logging with request ids to the API handlers",
    "this regex is too slow on long lines, rewrite it without backtracking",
    "implement a debounce hook for the search box",
    "add an index on orders.customer_id and a migration for it",
    "write a script that resizes all pngs in assets/ to 512px wide",
    "the date picker shows UTC instead of local time, fix it",
    "support both yaml and json config files in `{func}`",
    "add a health check endpoint that reports db connectivity",
    "fix the memory leak in the websocket handler, connections are never removed from the set",
    "implement soft delete for users with a deleted_at column",
    "add rate limiting of 100 requests per minute per api key",
    "parse the CSV with proper quoting instead of split(',')",
    "write a GitHub Actions workflow that runs the tests on 3.11 and 3.12",
    "why does this return None sometimes? make `{func}` always return a list",
    "add dark mode support to the settings page using css variables",
    "the Dockerfile rebuilds everything on each change; reorder it for layer caching",
    "implement `{func}` so that it streams the file instead of reading it all into memory",
    "add a unit test that reproduces issue #212 and then fix it",
    "replace the hand-written argument parsing in {file} with argparse",
    "make the API return 404 instead of 500 when the order does not exist",
    "add an endpoint to upload an avatar and store it in S3",
    "write a migration that backfills the slug column from the title",
    "fix the flaky test that depends on dict ordering",
    "add a progress bar to the import command",
    "implement password reset emails with a one-time token",
    "wrap the db calls in {file} in a transaction and roll back on error",
    "write a small LRU cache class with get/put and tests",
    "update the code to the new version of the requests api and fix the deprecation warnings",
]

PLAN = [
    "design the architecture for splitting our monolith into services: auth, billing and catalog",
    "we need to replace SQLAlchemy with a different data layer across the whole codebase; "
    "evaluate options and propose a migration plan",
    "plan a refactor of the authentication module: it's used in about 40 files and mixes "
    "sessions and JWTs",
    "p99 latency doubled after the last release; investigate across the cache, the db and the "
    "queue and tell me where to look first",
    "design a plugin system for the CLI so third parties can add commands without forking",
    "we want multi-tenancy: every table needs tenant isolation. how should we approach it?",
    "propose a strategy to migrate the frontend from webpack to vite without breaking the "
    "release train",
    "design an offline-first sync protocol for the mobile app with conflict resolution",
    "think through how to make the job scheduler horizontally scalable with exactly-once "
    "semantics",
    "audit the codebase for security issues around file uploads and plan fixes by severity",
    "lay out a plan to add end-to-end encryption to the chat feature, including key rotation",
    "the test suite takes 40 minutes; design a plan to get it under 5 without losing coverage",
    "how should we restructure the repo into a monorepo with shared packages? give me phases",
    "design the data model and API for a permissions system with roles, groups and "
    "per-resource overrides",
    "rewrite the billing engine to support usage-based pricing; plan the steps and the risks",
    "figure out a rollout plan for moving from REST to gRPC between our internal services",
    "we keep hitting deadlocks under load in the order pipeline; analyse the locking across "
    "modules and propose a redesign",
    "design an event-sourcing architecture for the ledger with snapshots and replay",
    "plan the upgrade from Django 3.2 to 5.1 across 12 apps with minimal downtime",
    "compare three approaches for real-time collaboration (OT, CRDT, locking) for our editor "
    "and recommend one with a plan",
    "design a caching layer for the API that stays consistent with writes across regions",
    "map out how to make the whole app work offline",
    "come up with an architecture for running user-submitted code safely in a sandbox",
    "we have to support 10x the traffic by next quarter; where are the bottlenecks and what's "
    "the plan",
    "propose a testing strategy for the whole payments flow including contract tests and "
    "chaos testing",
    "design the migration from a single postgres to sharded postgres for the events table",
    "think about how to decouple the UI from the core so it can run headless; plan the "
    "seams",
    "plan how to internationalise the entire product, backend messages included",
    "design a feature-flag system with gradual rollouts, kill switches and audit logs",
    "before touching code: analyse why the recommendation service is inconsistent across "
    "replicas and design a fix",
    "work out an incremental strategy to convert this 80k-line JS codebase to TypeScript",
    "design an observability stack (tracing, metrics, logs) for our services and a rollout "
    "order",
    "we need to extract the search feature into its own service with its own index; plan "
    "data migration, dual writes and cut-over",
    "architect a workflow engine with retries, timeouts, human approvals and resumable state",
    "plan a zero-downtime migration of user ids from int to uuid across all services",
    "review the overall design of the ingestion pipeline and propose a better architecture",
    "design how the proxy should route requests between models by difficulty, with failover",
    "evaluate whether to move from celery to a different queue and plan the transition",
    "restructure the state management of the whole frontend; today it's a mix of redux, "
    "context and globals",
    "design a disaster recovery plan for the database with RPO 5 minutes and test it",
    "plan the deprecation of API v1 across clients, with telemetry and a migration guide",
    "design a rule engine for fraud detection that analysts can edit without deploys",
]

FOREIGN = {
    "compact": [
        ("de", "Was macht `git rebase -i` nochmal? kurz bitte"),
        ("de", "Benenne die Variable `x` in {file} in `count` um"),
        ("es", "¿cómo imprimo la versión de python?"),
        ("es", "corrige la falta de ortografía en el README"),
        ("fr", "quelle est la commande pour lister les branches git ?"),
        ("fr", "ajoute une ligne vide à la fin de {file}"),
        ("zh", "怎么查看当前的 git 分支？"),
        ("zh", "把 {file} 里的 tmp 变量改名为 buffer"),
        ("ja", "このファイルの行数を教えて: {file}"),
        ("ja", "git の最後のコミットを取り消すコマンドは？"),
        ("pt", "qual o comando para ver os containers rodando?"),
        ("it", "come si stampa un dizionario ordinato in python?"),
        ("ru", "как посмотреть версию node?"),
        ("ko", "파이썬에서 문자열을 대문자로 바꾸는 방법은?"),
    ],
    "regular": [
        ("de", "Schreib einen Unit-Test für `{func}`, der Schaltjahre abdeckt"),
        ("de", "Der Login-Endpunkt gibt 500 statt 401 zurück, bitte beheben"),
        ("es", "añade paginación al endpoint GET /users en {file}"),
        ("es", "el test de checkout falla, encuentra la causa y arréglalo"),
        ("fr", "ajoute un cache avec TTL de 5 minutes à `{func}`"),
        ("fr", "corrige la fuite mémoire dans le gestionnaire websocket"),
        ("zh", "给 `{func}` 加上指数退避的重试逻辑"),
        ("zh", "修复上传超过 10MB 时的报错，给出清晰的错误信息"),
        ("ja", "`{func}` に型ヒントを追加して mypy を通して"),
        ("ja", "CSV のパースを split ではなく正しいクォート処理に直して"),
        ("pt", "adicione validação de entrada no formulário de cadastro"),
        ("it", "scrivi i test di integrazione per il flusso di login"),
        ("ru", "добавь ограничение 100 запросов в минуту на ключ API"),
        ("ko", "주문 테이블을 CSV로 내보내는 CLI 명령을 추가해줘"),
    ],
    "plan": [
        ("de", "Entwirf eine Architektur, um unseren Monolithen in Services aufzuteilen, "
               "mit Migrationsplan"),
        ("de", "Plane die Umstellung der gesamten Codebasis von REST auf gRPC, mit Risiken"),
        ("es", "diseña una estrategia para migrar todo el frontend a TypeScript por fases"),
        ("es", "analiza por qué se duplicó la latencia p99 entre caché, base de datos y cola, "
               "y propón un plan"),
        ("fr", "conçois un système de permissions avec rôles, groupes et exceptions par "
               "ressource"),
        ("fr", "propose un plan de migration sans interruption des ids int vers uuid dans "
               "tous les services"),
        ("zh", "为整个系统设计多租户隔离方案，并给出分阶段的迁移计划"),
        ("zh", "设计一个支持冲突解决的离线优先同步协议"),
        ("ja", "認証モジュール全体のリファクタリング計画を立てて。40ファイルで使われている"),
        ("ja", "イベントソーシングによる台帳のアーキテクチャを設計して"),
        ("pt", "planeje a atualização do Django 3.2 para 5.1 em 12 apps sem downtime"),
        ("it", "progetta un motore di workflow con retry, timeout e approvazioni umane"),
        ("ru", "спроектируй архитектуру шардирования таблицы событий в postgres"),
        ("ko", "전체 프론트엔드 상태 관리 구조를 재설계하는 계획을 세워줘"),
    ],
}

# The weak categories of the first rounds (docs/routing.md), as extra records written by a
# second seeded generator (so the records above stay as they were): regular work asked
# briefly, compact asks in the corpus's other languages, terse replies to regular proposals.
REGULAR_BRIEF = [
    "npm test fails, why", "cargo test is red, fix it", "go test ./... fails in {file}, why",
    "pytest errors on import, sort it out", "`{func}` returns the wrong total, fix",
    "add a /stats endpoint", "write tests for `{func}`", "fix the lint output", "review {file}",
    "why is `{func}` so slow here", "the build is broken, fix it",
    "make `{func}` handle empty input", "flaky test in {file}, fix",
    "add pagination to the list endpoint", "tsc complains about {file}, fix the types",
    "dbt run fails on the orders model, why", "terraform plan errors, fix the module",
    "add a --verbose flag", "handle the timeout in `{func}`", "the docker build fails, fix",
]
FOREIGN_EXTRA = {
    "compact": [
        ("de", "Welche Node-Version nutzt das Projekt?"),
        ("de", "Committe das bitte mit einer kurzen Nachricht"),
        ("fr", "renomme `{func}` en `run` dans {file}"),
        ("fr", "lance les tests et dis-moi combien passent"),
        ("es", "sube la versión a 1.4.2 en package.json"), ("es", "¿qué puerto usa el servidor?"),
        ("pt", "remove o import não usado em {file}"), ("pt", "que colunas tem a tabela orders?"),
        ("it", "aggiungi una docstring a `{func}`"), ("it", "correggi il refuso nel README"),
        ("ru", "переименуй `tmp` в `buffer` в {file}"), ("ru", "какой порт у сервера?"),
        ("zh", "运行一下测试，告诉我结果"), ("zh", "给 `{func}` 加一行注释"),
        ("ja", "{file} の未使用の import を消して"), ("ja", "バージョンを 2.0.1 に上げて"),
        ("ko", "README 오타 고쳐줘"), ("ko", "변경 사항 커밋해줘"),
    ],
    "regular": [
        ("de", "npm test schlägt fehl, warum?"),
        ("de", "Füg einen Endpunkt /health hinzu, der die DB prüft"),
        ("fr", "le build casse, trouve pourquoi"), ("es", "escribe tests para `{func}`"),
        ("pt", "o teste de login está falhando, descobre o motivo"),
        ("it", "aggiungi la paginazione all'endpoint degli ordini"),
        ("ru", "тест падает, разберись и почини"), ("zh", "测试挂了，查一下原因"),
        ("ja", "lint のエラーを直して"), ("ko", "빌드가 깨졌어, 원인 찾아서 고쳐줘"),
    ],
}
TERSE_EXTRA = ["sim, pode", "sì, procedi", "да, делай", "네, 진행해", "fix it", "go", "ok do it",
               "yes please"]
PROPOSALS_EXTRA = [
    "The failing test comes from an off-by-one in `{func}`; I'd fix the loop bound and add a "
    "case for the empty list. Go ahead?",
    "I can add the endpoint in {file} with input validation and two tests. Want me to?",
    "The lint errors are in three functions of {file}; I'd fix them and rerun the linter. OK?",
    "I'd rewrite `{func}` to stream the rows and cover it with a test. Shall I?",
]

TERSE = ["yes do it", "go ahead", "continue", "ok", "sounds good, proceed", "yep", "do it",
         "lgtm, go", "please continue", "sure", "ja, mach das", "vas-y", "adelante",
         "好的，继续", "はい、進めてください", "yes", "k", "proceed"]

PROPOSALS = {
    "compact": ["That's a one-line change in {file}. Want me to apply it?",
                "I can fix that typo right away. Shall I?",
                "Easy: it's just a rename of one variable. Go ahead?"],
    "regular": ["I'd add the fix in {file} and a regression test next to it. Should I proceed?",
                "Plan: change `{func}`, then update its two callers and the tests. OK?",
                "I found the cause in `{func}`. I can patch it and add a test. Proceed?"],
    "plan": ["Here is a phased approach:\n1. Inventory every module that touches this\n"
             "2. Introduce an abstraction layer\n3. Migrate services one by one behind a flag\n"
             "4. Dual-run and compare\n5. Cut over and delete the old path\n"
             "Risks: data consistency during dual writes, rollback. Shall I start with phase 1?",
             "Proposed architecture: split into three bounded contexts, an event bus between "
             "them, a migration in four stages with a rollback plan for each. Want me to "
             "start executing the plan?",
             "I'd tackle this in 6 steps across ~40 files, starting with the shared interfaces "
             "and ending with the cut-over. Proceed with step 1?"],
}

TOOL_RESULTS = {
    "compact": ["1\t# {project}\n2\t\n3\tA small service. Run `make dev` to start it.\n4\t",
                "main\n", "Python 3.11.9\n", "{file}:12:    tmp = []\n"],
    "regular": ["============ FAILURES ============\n___ test_{func_s} ___\n"
                "    assert result == expected\nE   AssertionError: assert 41 == 42\n"
                "tests/test_core.py:88: AssertionError\n1 failed, 63 passed in 2.31s",
                "Traceback (most recent call last):\n  File \"{file}\", line 57, in {func_s}\n"
                "    timeout = cfg['timeout']\nKeyError: 'timeout'",
                "     1\tdef {func_s}(items):\n     2\t    out = []\n     3\t    for i in items:\n"
                "     4\t        out.append(i)\n     5\t    return out\n"],
    "plan": ["{file}\nsrc/auth/session.py\nsrc/auth/jwt.py\nsrc/api/middleware.py\n"
             "src/billing/client.py\nsrc/catalog/views.py\nsrc/workers/sync.py\n"
             "... 37 more files reference `AuthContext`",
             "Found 212 matches across 48 files for 'session.query('\n"
             "app/models.py: 31\napp/services/orders.py: 22\napp/services/users.py: 19\n...",
             "services:\n  api: depends_on [db, cache, queue]\n  worker: depends_on [db, queue]\n"
             "  scheduler: depends_on [db]\n# 14 services, 3 databases, 2 queues"],
}

PLAN_MODE = [  # the harness's plan-mode text, paraphrased (several phrasings)
    "Plan mode is active. The user indicated that they do not want you to execute yet -- you "
    "MUST NOT make any edits, run any non-readonly tools (including changing configs or "
    "making commits), or otherwise make any changes to the system. This supersedes any other "
    "instructions you have received. Instead, you should research with read-only tools, and "
    "when you are done, present your plan by calling the ExitPlanMode tool.",
    "Plan mode is active. The user wants a plan before anything is executed: do not edit "
    "files, do not run commands that change state, do not commit. Use read-only tools to "
    "explore, then present the plan with ExitPlanMode and wait for approval.",
    "Plan mode is on. You must not make any edits or run non-readonly tools yet. Investigate "
    "the codebase read-only, write up an implementation plan, and call ExitPlanMode to ask "
    "the user to approve it.",
    "The user has enabled plan mode: they do not want you to execute yet. Make no changes to "
    "the system -- no edits, no writes, no commits, no config changes. Research, then present "
    "your plan through the ExitPlanMode tool.",
    "Plan mode is active. Do NOT modify anything. Only read and search. When your plan is "
    "ready, call ExitPlanMode so the user can review it before any change is made.",
    "Plan mode still active: continue researching with read-only tools only, do not make "
    "edits; present the finished plan with ExitPlanMode.",
]
EXIT_PLAN = [
    "## Exited Plan Mode\n\nYou have exited plan mode. You can now make edits, run tools, and "
    "take actions. The plan was approved by the user.",
    "Exited Plan Mode: the user approved the plan. You may now edit files and run commands.",
]
COMPACTION = [
    "Your task is to create a detailed summary of the conversation so far, paying close "
    "attention to the user's explicit requests and your previous actions. This summary should "
    "be thorough in capturing technical details, code patterns, and architectural decisions "
    "that would be essential for continuing development work without losing context.\n\n"
    "Before providing your final summary, wrap your analysis in <analysis> tags. Your summary "
    "should include: 1. Primary Request and Intent 2. Key Technical Concepts 3. Files and Code "
    "Sections 4. Errors and fixes 5. Problem Solving 6. All user messages 7. Pending Tasks "
    "8. Current Work 9. Optional Next Step. Wrap the summary in <summary></summary> tags.",
    "Create a detailed summary of our conversation up to now so that work can continue in a "
    "new context. Capture the user's requests, the files touched, code snippets, errors and "
    "how they were fixed, pending tasks and the current work. Put the result inside "
    "<summary> tags, preceded by your analysis in <analysis> tags.",
    "Your task is to summarize the conversation so far in detail: the user's explicit "
    "requests, your actions, technical decisions, file names and code, errors, and what "
    "remains to be done. Respond with an <analysis> section followed by a <summary> section.",
    "Your previous response did not contain <summary> tags. Please produce the detailed "
    "summary of the conversation again, wrapped in <summary></summary> tags.",
    "Please write a thorough summary of this conversation for continuing the work later: "
    "requests, key concepts, files and code sections, errors and fixes, pending tasks, "
    "current work and next step, inside <summary></summary>.",
]
CONTINUED = ("This session is being continued from a previous conversation that ran out of "
             "context. The conversation is summarized below:\n<summary>\n1. Primary Request: "
             "{task}\n2. Key files: {file}\n3. Current Work: was in the middle of it\n"
             "</summary>\nPlease continue the conversation from where we left it off without "
             "asking the user any further questions. Continue with the last task that you "
             "were asked to work on.")


def split(pool: list[Any], rng: random.Random) -> tuple[list[Any], list[Any]]:
    """Shuffle and split base phrases into train and held-out."""
    items = list(pool)
    rng.shuffle(items)
    n = max(1, round(len(items) * HELDOUT_FRACTION))
    return items[n:], items[:n]


class Builder:
    """Composes compact records from base phrases of one split."""

    def __init__(self, rng: random.Random, phrases: dict[str, list[tuple[str, str]]],
                 plan_mode: list[str], compaction: list[str], prefix: str) -> None:
        self.rng = rng
        self.phrases = phrases
        self.plan_mode = plan_mode
        self.compaction = compaction
        self.prefix = prefix
        self.records: list[dict[str, Any]] = []
        self.proposals: dict[str, list[str]] = PROPOSALS
        self.terse_words = TERSE

    def fill(self, text: str) -> str:
        func = self.rng.choice(FUNCS)
        return text.format(file=self.rng.choice(FILES), func=func,
                           func_s=func.split(".")[-1].lower(), project=self.rng.choice(PROJECTS))

    def phrase(self, tier: str) -> tuple[str, str]:
        lang, text = self.rng.choice(self.phrases[tier])
        return lang, self.fill(text)

    def add(self, label: str, kind: str, lang: str, messages: list[dict[str, Any]],
            **extra: Any) -> None:
        rid = f"{self.prefix}-{len(self.records):04d}"
        self.records.append({"id": rid, "label": label, "kind": kind, "lang": lang,
                             "cwd": f"/home/dev/{self.rng.choice(PROJECTS)}",
                             "messages": messages, **extra})

    @staticmethod
    def user(text: str) -> dict[str, Any]:
        return {"role": "user", "content": [{"type": "text", "text": text}]}

    def env(self, first: str) -> list[dict[str, Any]]:
        return [self.user(first), {"role": "system", "content": "$ENV"}]

    def tool_turn(self, tier: str, tid: str) -> list[dict[str, Any]]:
        name = self.rng.choice(["Read", "Bash", "Grep"])
        result = self.fill(self.rng.choice(TOOL_RESULTS[tier]))
        return [
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": tid, "name": name, "input": {"command": "..."}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tid,
                                          "content": result,
                                          "is_error": "Error" in result or "FAIL" in result}]},
        ]

    def single(self, tier: str) -> None:
        lang, text = self.phrase(tier)
        self.add(tier, "single", lang, self.env(text))

    def with_tools(self, tier: str) -> None:
        lang, text = self.phrase(tier)
        msgs = self.env(text) + self.tool_turn(tier, f"toolu_{self.rng.randrange(16**8):08x}")
        self.add(tier, "tool_result", lang, msgs)

    def terse(self, tier: str) -> None:
        lang, text = self.phrase(tier)
        proposal = self.fill(self.rng.choice(self.proposals[tier]))
        msgs = [*self.env(text), {"role": "assistant", "content": proposal},
                self.user(self.rng.choice(self.terse_words))]
        self.add(tier, "terse_followup", lang, msgs)

    def switch(self, tier: str) -> None:
        # An earlier finished task of another tier; the latest request decides.
        other = self.rng.choice([t for t in ("compact", "regular", "plan") if t != tier])
        _, old = self.phrase(other)
        lang, text = self.phrase(tier)
        msgs = [*self.env(old), {"role": "assistant", "content": "Done."}, self.user(text)]
        self.add(tier, "topic_switch", lang, msgs)

    def plan_mode_request(self) -> None:
        tier = self.rng.choice(["compact", "regular", "plan"])
        lang, text = self.phrase(tier)
        mode_text = self.rng.choice(self.plan_mode)
        where = self.rng.choice(["inline", "trailing", "reminder", "later_turn"])
        safeguards = None
        if where == "inline":
            msgs = [self.user(text), {"role": "system", "content": "$ENV\n\n" + mode_text}]
        elif where == "trailing":
            msgs = [*self.env(text), {"role": "system", "content": mode_text}]
        elif where == "reminder":
            msgs = self.env(text)
            msgs[0]["content"].insert(0, {"type": "text", "text":
                                          f"<system-reminder>\n{mode_text}\n</system-reminder>"})
        else:
            _, later = self.phrase(tier)
            msgs = [self.user(text), {"role": "system", "content": "$ENV\n\n" + mode_text},
                    {"role": "assistant", "content": "I looked at the code; here is what I "
                     "found so far."}, self.user(later)]
            safeguards = [{"classifier_context": {"permission_mode": "plan"}}]
        extra = {"safeguards": safeguards} if safeguards else {}
        self.add("plan", f"plan_mode_{where}", lang, msgs, **extra)

    def exited_plan(self) -> None:
        tier = self.rng.choice(["compact", "regular"])
        _, first = self.phrase("plan")
        lang, text = self.phrase(tier)
        msgs = [self.user(first), {"role": "system", "content": "$ENV\n\n" +
                                   self.rng.choice(self.plan_mode)},
                {"role": "assistant", "content": "Here is the plan. Calling ExitPlanMode."},
                {"role": "system", "content": self.rng.choice(EXIT_PLAN)},
                {"role": "assistant", "content": "Done with step 1."}, self.user(text)]
        self.add(tier, "exited_plan_mode", lang, msgs,
                 safeguards=[{"classifier_context": {"permission_mode": "default"}}])

    def compaction_request(self) -> None:
        tier = self.rng.choice(["regular", "plan"])
        lang, text = self.phrase(tier)
        instructions = self.rng.choice(self.compaction)
        if self.rng.random() < 0.3:
            instructions += "\n\nAdditional Instructions:\nfocus on the database changes"
        msgs = self.env(text) + self.tool_turn(tier, "toolu_c1") + [
            {"role": "assistant", "content": "Fixed it and the tests pass now."},
            self.user(instructions)]
        self.add("compact", "compaction", lang, msgs)

    def continued(self) -> None:
        tier = self.rng.choice(["regular", "plan"])
        lang, text = self.phrase(tier)
        msgs = [self.user(self.fill(CONTINUED.replace("{task}", text.replace("{", "(")))),
                {"role": "system", "content": "$ENV"}]
        self.add(tier, "continued_session", lang, msgs)


def build(phrases: dict[str, list[tuple[str, str]]], plan_mode: list[str],
          compaction: list[str], rng: random.Random, prefix: str, scale: int) -> list[dict]:
    """All record kinds, `scale` rounds of each per tier."""
    b = Builder(rng, phrases, plan_mode, compaction, prefix)
    for _ in range(scale):
        for tier in ("compact", "regular", "plan"):
            b.single(tier)
            b.single(tier)
            b.with_tools(tier)
            b.terse(tier)
            if rng.random() < 0.5:
                b.switch(tier)
        b.plan_mode_request()
        if rng.random() < 0.5:
            b.exited_plan()
        if rng.random() < 0.6:
            b.compaction_request()
        if rng.random() < 0.3:
            b.continued()
    return b.records


def build_weak(phrases: dict[str, list[tuple[str, str]]], rng: random.Random, prefix: str,
               scale: int) -> list[dict]:
    """Extra records for the weak categories, `scale` rounds."""
    b = Builder(rng, phrases, [], [], prefix)
    b.proposals = {**PROPOSALS, "regular": PROPOSALS["regular"] + PROPOSALS_EXTRA}
    b.terse_words = TERSE + TERSE_EXTRA
    for _ in range(scale):
        b.single("compact")
        b.single("regular")
        b.with_tools("regular")
        b.terse("regular")
    return b.records


def harness() -> dict[str, Any]:
    """System prompt, environment message and tools, from the captured Claude Code request."""
    lines = CAPTURE.read_text().splitlines()
    body = next(json.loads(x)["body"] for x in lines if '"request_received"' in x)
    env = next(m for m in body["messages"] if m["role"] == "system")["content"]
    env_text = env if isinstance(env, str) else env[0]["text"]
    cwd = "/tmp/cc1/work"
    tools = [{"name": t["name"], "description": t.get("description", "")[:400],
              "input_schema": {"type": "object", "properties": {}}} for t in body["tools"]]
    return {"system": [b["text"] for b in body["system"]],
            "environment": env_text.replace(cwd, "{cwd}"),
            "reminder": body["messages"][0]["content"][0]["text"],
            "tools": tools, "model": body["model"]}


def main() -> None:
    """Write harness.json, train.jsonl and heldout.jsonl."""
    rng = random.Random(SEED)
    pools: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}
    for tier, english in (("compact", COMPACT), ("regular", REGULAR), ("plan", PLAN)):
        tr, ho = split([("en", p) for p in english], rng)
        ftr, fho = split(FOREIGN[tier], rng)
        pools[tier] = (tr + ftr, ho + fho)
    pm_tr, pm_ho = split(PLAN_MODE, rng)
    cp_tr, cp_ho = split(COMPACTION, rng)
    train = build({t: p[0] for t, p in pools.items()}, pm_tr, cp_tr, rng, "train", 27)
    heldout = build({t: p[1] for t, p in pools.items()}, pm_ho, cp_ho, rng, "heldout", 9)
    if WEAK_SCALE:
        weak_rng = random.Random(SEED + 1)
        weak: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
            "compact": split(FOREIGN_EXTRA["compact"], weak_rng),
            "regular": split([("en", p) for p in REGULAR_BRIEF] + FOREIGN_EXTRA["regular"],
                             weak_rng)}
        train += build_weak({t: p[0] for t, p in weak.items()}, weak_rng, "train-weak",
                            WEAK_SCALE)
        heldout += build_weak({t: p[1] for t, p in weak.items()}, weak_rng, "heldout-weak",
                              max(1, WEAK_SCALE // 3))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "harness.json").write_text(json.dumps(harness(), ensure_ascii=False, indent=1))
    for name, records in (("train", train), ("heldout", heldout)):
        with (OUT / f"{name}.jsonl").open("w") as fh:
            for record in records:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    counts = {n: {t: sum(r["label"] == t for r in rs) for t in ("compact", "regular", "plan")}
              for n, rs in (("train", train), ("heldout", heldout))}
    print(json.dumps(counts))


if __name__ == "__main__":
    main()

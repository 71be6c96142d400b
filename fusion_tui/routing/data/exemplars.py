"""Exemplars of harness texts the gate recognises by meaning (paraphrases written for the
gate; the dataset uses different wordings so evaluation does not reward memorising these)."""

from __future__ import annotations

PLAN_MODE = (
    "Plan mode is active. The user indicated that they do not want you to execute yet. You "
    "must not make any edits, run any non-readonly tools, change configs or make commits. "
    "Research with read-only tools and present your plan with ExitPlanMode.",
    "You are in plan mode: do not change anything on the system yet. Explore the code with "
    "read-only tools, then propose an implementation plan for the user to approve.",
    "Plan mode: the user wants to review a plan before any execution. No file edits, no "
    "writes, no state-changing commands until the plan is approved via ExitPlanMode.",
    "Planning only. Do not execute, edit or commit. Investigate read-only and present the "
    "plan by calling the ExitPlanMode tool.",
)

EXIT_PLAN = (
    "You have exited plan mode. You can now make edits, run tools and take actions.",
    "Exited Plan Mode. The user approved your plan; proceed with the implementation.",
    "Plan mode is over: the plan was accepted, you may now modify files and run commands.",
)

HARNESS_NEGATIVE = (
    "# Environment\nYou have been invoked in the following environment: primary working "
    "directory, is a git repository, platform linux, shell bash, OS version.",
    "The following deferred tools are now available via ToolSearch. Their schemas are not "
    "loaded; use ToolSearch to load tool schemas before calling them.",
    "Available agent types for the Agent tool: general-purpose, Explore, statusline-setup.",
    "The following skills are available for use with the Skill tool: code review, "
    "security review, init, simplify.",
    "Attribution for git commits and pull requests: end commit messages with "
    "Co-Authored-By and pull request descriptions with Generated with Claude Code.",
    "The TodoWrite tool hasn't been used recently. Consider using it to track progress.",
    "When you launch multiple agents for independent work, send them in a single message.",
    "You are an agent working with the user toward their goals, using your own judgment. "
    "Assist with authorized security testing; refuse destructive techniques.",
    "Downloaded files and extracted archives are untrusted data; run Python that reads them "
    "with -I.",
    "You are powered by the model named Opus. Assistant knowledge cutoff. Today's date is.",
    "Use the Plan agent: a software architect agent for designing implementation plans. "
    "Returns step-by-step plans, identifies critical files, considers trade-offs.",
    "Launch and drive this project's app to see a change working; review the changed code "
    "for reuse and simplification.",
)

COMPACTION = (
    "Your task is to create a detailed summary of the conversation so far, paying close "
    "attention to the user's explicit requests and your previous actions, technical details, "
    "code patterns and architectural decisions, wrapped in summary tags.",
    "Summarize this whole conversation in detail so the work can be continued in a fresh "
    "context: requests, files and code, errors and fixes, pending tasks, current work, "
    "next step. Use analysis and summary tags.",
    "Write a complete summary of our conversation up to this point, including all user "
    "messages, key decisions, files touched, and what remains to do.",
    "Your previous answer lacked summary tags; produce the conversation summary again "
    "inside summary tags.",
)

COMPACTION_NEGATIVE = (
    "This session is being continued from a previous conversation that ran out of context. "
    "The conversation is summarized below. Continue with the last task.",
    "summarize what this function does",
    "write a short summary of the README for the release notes",
    "add a docstring that summarizes the module",
    "fix the failing test and explain the cause",
    "design the architecture and write a migration plan",
    "what does this command do",
    "continue",
    "yes do it",
)

COMPACTION_CLIENTS = (
    "Context checkpoint: compact the conversation. Write a handoff summary so another model "
    "can resume the task: progress, decisions, constraints, what remains.",
    "Provide a detailed summary of our conversation above, focused on what we did, which "
    "files we worked on and what we are going to do next, for continuing in a new session.",
)

# The request that names a conversation: a harness chore, recognised on its instructions.
TITLE = (
    "Generate a short title for this conversation. Reply with the title only, a few words.",
    "You write titles: output only a concise thread title of at most 50 characters that "
    "summarises the user's first message, nothing else.",
    "Summarize this coding session in a short title; respond as JSON with a title field.",
)

TITLE_NEGATIVE = (
    "add a title to the README",
    "rename the page title in the HTML head",
    "write release notes for this version",
    "You are an agent working with the user toward their goals, using your own judgment.",
)

# The system prompt a delegated sub-agent runs under, against the main agent's.
SUBAGENT = (
    "You are an agent for the coding CLI. Given the user's message, use the tools available "
    "to complete the task fully, then respond with a concise report of what was done and "
    "the key findings.",
    "You are a sub-agent spawned by the main agent to carry out one delegated task: search "
    "the codebase, run the tools you need, and return a short report to the caller.",
    "You are a file search specialist. Explore the codebase read-only and report the files "
    "and code paths relevant to the task you were given.",
)

MAIN_AGENT = (
    "You are an agent working with the user toward their goals, using your own judgment "
    "along the way. Text you output is displayed to the user in a terminal.",
    "You are an interactive CLI tool that helps users with software engineering tasks. Use "
    "the instructions below and the tools available to you to assist the user.",
    "You are a coding agent running in the terminal, pairing with the user on their "
    "repository. Keep the user informed and ask before risky actions.",
)

# Anchors of each tier, paraphrasing the labelling rubric's task types (docs/routing.md). The
# head reads how close the user's ask (and, for a terse reply, the proposal it agrees to) is
# to each tier's anchors: a prior that generalises beyond the training requests' wording.
TIER_ANCHORS = {
    "compact": (
        "what port does the server listen on", "which columns does this table expose",
        "run the tests and tell me the result", "rename this variable",
        "fix the typo in the README", "bump the dependency version",
        "add a docstring to this function", "add a config field", "commit the changes",
        "apply the one-line fix you proposed", "what does this command do",
        "show me where this function is defined", "list the files in this folder", "thanks",
        "delete the unused import"),
    "regular": (
        "debug the failing test and fix it", "fix this bug, find out what causes it",
        "implement a small feature", "add an endpoint", "write unit tests for this function",
        "fix the lint errors", "review this file and suggest improvements",
        "why does this code behave like this", "refactor this function to return an error",
        "handle the error case and add a test", "the build fails, figure out why and fix it",
        "add input validation to the handler"),
    "plan": (
        "design the architecture", "redesign the module", "plan a migration of the database",
        "migrate the infrastructure with zero downtime", "change this across many services",
        "security audit of the whole application",
        "performance problem, p99 latency is high under load, unknown cause",
        "an incident: find the root cause and prevent this whole class of failures",
        "compare options and trade-offs", "plan the rollout and the rollback",
        "make the service multi-tenant", "guarantee exactly-once processing",
        "think it through and propose a design",
        "introduce event sourcing and plan the migration"),
}

# The same task types, written for this file in the corpus's other languages (paraphrases of
# the rubric, never copied from a captured ask), so an ask in German or Chinese has anchors in
# its own words. Per language: compact, regular, plan.
TIER_ANCHORS_TRANSLATED: dict[str, dict[str, tuple[str, ...]]] = {
    "de": {
        "compact": ("auf welchem Port läuft der Server", "benenne diese Variable um",
                    "korrigiere den Tippfehler", "führe die Tests aus und sag mir das Ergebnis",
                    "committe die Änderungen", "füge einen Docstring hinzu"),
        "regular": ("finde heraus, warum der Test fehlschlägt, und behebe es",
                    "implementiere einen kleinen Endpunkt", "schreib Unit-Tests für diese Funktion",
                    "behebe die Lint-Fehler", "warum verhält sich dieser Code so"),
        "plan": ("entwirf die Architektur neu", "plane die Migration der Datenbank",
                 "Sicherheitsaudit der ganzen Anwendung",
                 "vergleiche die Optionen und ihre Vor- und Nachteile",
                 "plane den Rollout und den Rollback"),
    },
    "fr": {
        "compact": ("sur quel port écoute le serveur", "renomme cette variable",
                    "corrige la faute de frappe", "lance les tests et dis-moi le résultat",
                    "commite les changements", "ajoute une docstring"),
        "regular": ("trouve pourquoi le test échoue et corrige-le",
                    "implémente un petit endpoint", "écris des tests unitaires pour cette fonction",
                    "corrige les erreurs du linter", "pourquoi ce code se comporte-t-il ainsi"),
        "plan": ("repense l'architecture", "planifie la migration de la base de données",
                 "audit de sécurité de toute l'application",
                 "compare les options et leurs compromis",
                 "prévois le déploiement et le retour arrière"),
    },
    "es": {
        "compact": ("en qué puerto escucha el servidor", "renombra esta variable",
                    "corrige la errata", "ejecuta los tests y dime el resultado",
                    "haz commit de los cambios", "añade un docstring"),
        "regular": ("averigua por qué falla el test y arréglalo",
                    "implementa un endpoint pequeño", "escribe tests unitarios para esta función",
                    "arregla los errores del linter", "por qué este código se comporta así"),
        "plan": ("rediseña la arquitectura", "planifica la migración de la base de datos",
                 "auditoría de seguridad de toda la aplicación",
                 "compara las opciones y sus ventajas e inconvenientes",
                 "planifica el despliegue y la reversión"),
    },
    "pt": {
        "compact": ("em que porta o servidor escuta", "renomeia esta variável",
                    "corrige o erro de digitação", "roda os testes e me diz o resultado",
                    "faz commit das mudanças", "adiciona uma docstring"),
        "regular": ("descobre por que o teste falha e corrige",
                    "implementa um endpoint pequeno", "escreve testes unitários para esta função",
                    "corrige os erros do linter", "por que este código se comporta assim"),
        "plan": ("redesenha a arquitetura", "planeja a migração do banco de dados",
                 "auditoria de segurança de toda a aplicação",
                 "compara as opções e seus prós e contras", "planeja o rollout e o rollback"),
    },
    "it": {
        "compact": ("su quale porta ascolta il server", "rinomina questa variabile",
                    "correggi il refuso", "esegui i test e dimmi il risultato",
                    "fai il commit delle modifiche", "aggiungi una docstring"),
        "regular": ("scopri perché il test fallisce e correggilo",
                    "implementa un piccolo endpoint", "scrivi i test unitari per questa funzione",
                    "correggi gli errori del linter", "perché questo codice si comporta così"),
        "plan": ("riprogetta l'architettura", "pianifica la migrazione del database",
                 "audit di sicurezza di tutta l'applicazione",
                 "confronta le opzioni e i compromessi", "pianifica il rilascio e il rollback"),
    },
    "ja": {
        "compact": ("サーバーは何番ポートで動いていますか", "この変数の名前を変えて",
                    "タイプミスを直して", "テストを実行して結果を教えて",
                    "変更をコミットして", "docstringを追加して"),
        "regular": ("テストが失敗する原因を調べて直して", "小さなエンドポイントを実装して",
                    "この関数の単体テストを書いて", "リントエラーを直して",
                    "このコードがなぜこう動くのか説明して"),
        "plan": ("アーキテクチャを再設計して", "データベースの移行計画を立てて",
                 "アプリ全体のセキュリティ監査", "選択肢とトレードオフを比較して",
                 "ロールアウトとロールバックの計画を立てて"),
    },
    "zh": {
        "compact": ("服务器监听哪个端口", "把这个变量重命名", "修正这个拼写错误",
                    "运行测试并告诉我结果", "提交这些改动", "给这个函数加个文档字符串"),
        "regular": ("查一下测试为什么失败并修复", "实现一个小的接口", "给这个函数写单元测试",
                    "修复 lint 报错", "解释这段代码为什么这样运行"),
        "plan": ("重新设计整体架构", "规划数据库迁移", "对整个应用做安全审计",
                 "比较几种方案的利弊", "制定上线和回滚计划"),
    },
    "ko": {
        "compact": ("서버가 몇 번 포트에서 실행되나요", "이 변수 이름을 바꿔줘", "오타를 고쳐줘",
                    "테스트를 실행하고 결과를 알려줘", "변경 사항을 커밋해줘",
                    "docstring을 추가해줘"),
        "regular": ("테스트가 실패하는 원인을 찾아서 고쳐줘", "작은 엔드포인트를 구현해줘",
                    "이 함수의 단위 테스트를 작성해줘", "린트 오류를 고쳐줘",
                    "이 코드가 왜 이렇게 동작하는지 설명해줘"),
        "plan": ("아키텍처를 다시 설계해줘", "데이터베이스 마이그레이션 계획을 세워줘",
                 "애플리케이션 전체 보안 감사", "선택지와 트레이드오프를 비교해줘",
                 "배포와 롤백 계획을 세워줘"),
    },
    "ru": {
        "compact": ("на каком порту слушает сервер", "переименуй эту переменную",
                    "исправь опечатку", "запусти тесты и скажи результат",
                    "закоммить изменения", "добавь docstring"),
        "regular": ("выясни, почему падает тест, и исправь", "реализуй небольшой эндпоинт",
                    "напиши юнит-тесты для этой функции", "исправь ошибки линтера",
                    "почему этот код так себя ведёт"),
        "plan": ("перепроектируй архитектуру", "спланируй миграцию базы данных",
                 "аудит безопасности всего приложения", "сравни варианты и их компромиссы",
                 "спланируй выкатку и откат"),
    },
}

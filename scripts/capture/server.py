"""A scripted model server for capturing what real coding agents send.

It speaks the Anthropic Messages API (streaming and not), OpenAI Chat Completions and the
Responses API on 127.0.0.1, and answers every request from the scenario step the driver has
set: the step's replies are abstract actions (`sh`, `read`, `grep`, `edit`, `agent`, ...) that
are turned into the client's own tool calls, so the real CLI runs real tools in a real repo.
Every request body is recorded verbatim with the scenario, the step and the label the
scenario author gave it (see docs/routing.md, "Labelling rubric").

Which reply answers a request is decided from the body, not from a counter: the number of
assistant messages after the latest human message picks the reply, so retries and parallel
side requests (title, sub-agents) never shift the script.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

DUMMY_USER_ID = json.dumps({"device_id": "0" * 64, "account_uuid": "",
                            "session_id": "00000000-0000-4000-8000-000000000000"})


@dataclass
class Capture:
    """One recorded request and its label."""

    client: str
    protocol: str
    scenario: str
    turn: int
    kind: str
    tier: str
    lang: str
    body: dict[str, Any]
    note: str = ""


@dataclass
class Live:
    """What the driver is doing now: the scenario, its step, and where the repo lives."""

    scenario: dict[str, Any]
    step_index: int
    cwd: Path

    @property
    def step(self) -> dict[str, Any]:
        return dict(self.scenario["steps"][self.step_index])


def scrub(body: dict[str, Any]) -> dict[str, Any]:
    """Replace account/device ids with a fixed dummy (they never reach the corpus)."""
    meta = body.get("metadata")
    if isinstance(meta, dict) and "user_id" in meta:
        body = {**body, "metadata": {**meta, "user_id": DUMMY_USER_ID}}
    if isinstance(body.get("user"), str):
        body = {**body, "user": "user-0"}
    if "prompt_cache_key" in body:
        body = {**body, "prompt_cache_key": "00000000-0000-4000-8000-000000000000"}
    return body


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    out = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict):
                if block.get("type") in ("text", "input_text", "output_text"):
                    out.append(str(block.get("text", "")))
    return out


def _is_human(msg: dict[str, Any]) -> bool:
    """A user message that is not only tool results (Anthropic shape)."""
    if msg.get("role") != "user":
        return False
    content = msg.get("content")
    if isinstance(content, str):
        return not content.lstrip().startswith("<system-reminder>")
    if isinstance(content, list):
        if any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
            return False
        # Harness-only messages (reminders, background-task notifications) are not the human.
        return any(not t.lstrip().startswith("<system-reminder>") for t in _texts(content))
    return False


def reply_index_anthropic(messages: list[dict[str, Any]]) -> int:
    """How many assistant messages follow the latest human message."""
    last = max((i for i, m in enumerate(messages) if _is_human(m)), default=0)
    return sum(1 for m in messages[last:] if m.get("role") == "assistant")


def reply_index_openai(messages: list[dict[str, Any]]) -> int:
    """Chat Completions: assistant messages after the latest user message."""
    last = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=0)
    return sum(1 for m in messages[last:] if m.get("role") == "assistant")


def reply_index_responses(items: list[dict[str, Any]]) -> int:
    """Responses: model turns (runs of assistant messages/function calls) after the user's."""
    last = max((i for i, it in enumerate(items) if it.get("role") == "user"
                and it.get("type", "message") == "message"), default=0)
    turns, in_turn = 0, False
    for it in items[last + 1:]:
        is_model = it.get("role") == "assistant" or it.get("type") in (
            "function_call", "reasoning", "custom_tool_call", "local_shell_call")
        if is_model and not in_turn:
            turns += 1
        in_turn = is_model
    return turns


def first_user_text(messages: list[dict[str, Any]]) -> str:
    for msg in messages:
        if msg.get("role") == "user":
            return "\n".join(_texts(msg.get("content")))
    return ""


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for msg in reversed(messages):
        if msg.get("role") == "user":
            return "\n".join(_texts(msg.get("content")))
    return ""


# ---------------------------------------------------------------------------------------
# Abstract actions -> each client's tool calls


def _abs(cwd: Path, path: str) -> str:
    return path if path.startswith("/") else str(cwd / path)


def claude_calls(actions: list[dict[str, Any]], cwd: Path) -> list[dict[str, Any]]:
    """Abstract actions -> Claude Code tool_use inputs ({name, input})."""
    out = []
    for act in actions:
        (verb, arg), = act.items()
        if verb == "sh":
            out.append({"name": "Bash", "input": {"command": arg, "description": (
                "Run " + arg.split()[0])}})
        elif verb == "read":
            out.append({"name": "Read", "input": {"file_path": _abs(cwd, arg)}})
        elif verb == "grep":
            out.append({"name": "Grep", "input": {"pattern": arg, "output_mode": "content",
                                                  "-n": True}})
        elif verb == "glob":
            out.append({"name": "Glob", "input": {"pattern": arg}})
        elif verb == "edit":
            out.append({"name": "Edit", "input": {"file_path": _abs(cwd, arg["file"]),
                                                  "old_string": arg["old"],
                                                  "new_string": arg["new"]}})
        elif verb == "write":
            out.append({"name": "Write", "input": {"file_path": _abs(cwd, arg["file"]),
                                                   "content": arg["content"]}})
        elif verb == "agent":
            out.append({"name": "Agent", "input": {
                "description": arg["description"], "prompt": arg["prompt"],
                "subagent_type": arg.get("type", "general-purpose")}})
        elif verb == "todo":
            out.append({"name": "TodoWrite", "input": {"todos": [
                {"content": t, "status": "pending", "activeForm": t} for t in arg]}})
        elif verb == "exit_plan":
            out.append({"name": "ExitPlanMode", "input": {"plan": arg}})
        else:
            raise ValueError(f"unknown action {verb!r}")
    return out


def _shell_of(verb: str, arg: Any) -> str:
    if verb == "sh":
        return str(arg)
    if verb == "read":
        return f"cat -n {arg}"
    if verb == "grep":
        return f"grep -rn {json.dumps(arg)} ."
    if verb == "glob":
        name = json.dumps(arg.split("/")[-1])
        return f"find . -path ./node_modules -prune -o -name {name} -print"
    if verb == "edit":
        return ("python3 - <<'EOF'\nimport pathlib\np = pathlib.Path(" + json.dumps(arg["file"])
                + ")\np.write_text(p.read_text().replace(" + json.dumps(arg["old"]) + ", "
                + json.dumps(arg["new"]) + ", 1))\nEOF")
    if verb == "write":
        return f"cat > {arg['file']} <<'EOF'\n{arg['content']}\nEOF"
    return ""


def codex_calls(actions: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Abstract actions -> Codex function calls (its shell tool; others are skipped)."""
    names = {t.get("name") for t in tools}
    out = []
    for act in actions:
        (verb, arg), = act.items()
        if verb == "todo" and "update_plan" in names:
            out.append({"name": "update_plan", "arguments": {"plan": [
                {"step": t, "status": "pending"} for t in arg]}})
            continue
        cmd = _shell_of(verb, arg)
        if not cmd:
            continue
        if "exec_command" in names:
            out.append({"name": "exec_command", "arguments": {"cmd": cmd}})
        elif "shell_command" in names:
            out.append({"name": "shell_command", "arguments": {"command": cmd}})
        else:
            out.append({"name": "shell", "arguments": {"command": ["bash", "-lc", cmd]}})
    return out


def opencode_calls(actions: list[dict[str, Any]], cwd: Path) -> list[dict[str, Any]]:
    """Abstract actions -> opencode tool calls (bash, read, grep, glob, edit, write, todowrite)."""
    out = []
    for act in actions:
        (verb, arg), = act.items()
        if verb == "sh":
            out.append({"name": "bash", "arguments": {"command": arg,
                                                      "description": "Run " + arg.split()[0]}})
        elif verb == "read":
            out.append({"name": "read", "arguments": {"filePath": _abs(cwd, arg)}})
        elif verb == "grep":
            out.append({"name": "grep", "arguments": {"pattern": arg}})
        elif verb == "glob":
            out.append({"name": "glob", "arguments": {"pattern": arg}})
        elif verb == "edit":
            out.append({"name": "edit", "arguments": {"filePath": _abs(cwd, arg["file"]),
                                                      "oldString": arg["old"],
                                                      "newString": arg["new"]}})
        elif verb == "write":
            out.append({"name": "write", "arguments": {"filePath": _abs(cwd, arg["file"]),
                                                       "content": arg["content"]}})
        elif verb == "todo":
            out.append({"name": "todowrite", "arguments": {"todos": [
                {"id": str(i), "content": t, "status": "pending", "priority": "medium"}
                for i, t in enumerate(arg)]}})
        elif verb == "agent":
            out.append({"name": "task", "arguments": {
                "description": arg["description"], "prompt": arg["prompt"],
                "subagent_type": "general"}})
    return out


def _schema_example(schema: dict[str, Any], hint: str) -> Any:
    kind = schema.get("type")
    if kind == "object":
        return {k: _schema_example(v, hint) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_schema_example(schema.get("items") or {}, hint)]
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    if "enum" in schema:
        return schema["enum"][0]
    return hint


# ---------------------------------------------------------------------------------------


@dataclass
class ScriptedServer:
    """The aiohttp app and its recordings. The driver sets `live` before each step."""

    live: Live | None = None
    captures: list[Capture] = field(default_factory=list)
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_activity: float = 0.0
    in_flight: int = 0
    final_served: asyncio.Event = field(default_factory=asyncio.Event)
    unknown: list[str] = field(default_factory=list)
    max_requests: int = 60
    compactions: int = 0

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1/messages/count_tokens", self._count)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_get("/v1/models", self._models)
        return app

    def begin_step(self, live: Live) -> None:
        self.live = live
        self.compactions = 0
        self.final_served.clear()
        self.last_activity = time.monotonic()

    async def settle(self, idle_s: float, timeout_s: float) -> bool:
        """Wait until the step's last reply was served and nothing came for `idle_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if (self.final_served.is_set() and self.in_flight == 0
                    and time.monotonic() - self.last_activity >= idle_s):
                return True
            await asyncio.sleep(0.25)
        return False

    # -- labelling --------------------------------------------------------------------

    def _record(self, protocol: str, kind: str, tier: str, body: dict[str, Any],
                note: str = "") -> None:
        live = self.live
        assert live is not None
        sc = live.scenario
        lang = live.step.get("lang", sc.get("lang", "en"))
        self.captures.append(Capture(sc["client"], protocol, sc["name"], live.step_index,
                                     kind, tier, lang, scrub(body), note))

    def _step_tier(self, idx: int) -> str:
        step = self.live.step  # type: ignore[union-attr]
        tiers = step.get("tiers")
        if tiers:
            return str(tiers[min(idx, len(tiers) - 1)])
        return str(step["tier"])

    def _replies(self) -> list[dict[str, Any]]:
        return list(self.live.step.get("replies") or [])  # type: ignore[union-attr]

    def _reply(self, idx: int) -> tuple[str, list[dict[str, Any]], bool]:
        """(text, actions, is_final) for reply `idx` of the live step."""
        replies = self._replies()
        if idx >= len(replies):
            self.final_served.set()
            return ("Done.", [], True)
        reply = replies[idx]
        actions = list(reply.get("do") or [])
        for act in actions:
            if "agent" in act:
                self.agents[act["agent"]["prompt"][:200]] = act["agent"]
        final = not actions
        if final:
            self.final_served.set()
        return (str(reply.get("say", "")), actions, final)

    def _subagent_for(self, text: str) -> dict[str, Any] | None:
        for key, spec in self.agents.items():
            if key in text:
                return spec
        return None

    # -- Anthropic --------------------------------------------------------------------

    async def _count(self, request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response({"input_tokens": max(1, len(body) // 4)})

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [
            {"id": "fusion", "object": "model", "created": 0, "owned_by": "capture"}]})

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        try:
            body = await request.json()
            return await self._answer_anthropic(request, body)
        finally:
            self.in_flight -= 1
            self.last_activity = time.monotonic()

    async def _answer_anthropic(self, request: web.Request,
                                body: dict[str, Any]) -> web.StreamResponse:
        live = self.live
        if live is None:
            return web.json_response({"type": "error", "error": {
                "type": "api_error", "message": "no scenario step is live"}}, status=500)
        messages = body.get("messages") or []
        cwd = live.cwd
        if len(self.captures) >= self.max_requests:
            self.unknown.append("request cap reached: the script is looping")
            self.final_served.set()
            return await self._send_anthropic(request, body, [{"type": "text",
                                                               "text": "Stopping."}], "end_turn")
        fmt = (body.get("output_config") or {}).get("format")
        blocks: list[dict[str, Any]] = []
        if not body.get("tools") and isinstance(fmt, dict) and fmt.get("schema"):
            value = _schema_example(fmt["schema"], live.step.get("title", "Fix failing tests"))
            blocks = [{"type": "text", "text": json.dumps(value)}]
            self._record("anthropic", "title", "compact", body)
            return await self._send_anthropic(request, body, blocks, "end_turn")
        last = last_user_text(messages)
        if live.step.get("kind") == "compact" and "summary" in last.lower() and (
                "conversation" in last.lower()):
            self._record("anthropic", "compaction", "compact", body)
            summary = live.step.get("summary") or "The user and assistant worked on the repo."
            self.compactions += 1
            if live.step.get("bare_summary") and self.compactions == 1:
                # No <summary> tags: Claude Code asks again with a follow-up (also captured).
                text = summary
            else:
                text = ("<analysis>Reviewing the conversation.</analysis>\n<summary>\n"
                        f"{summary}\n</summary>")
                self.final_served.set()
            return await self._send_anthropic(request, body, [{"type": "text", "text": text}],
                                              "end_turn")
        agent = self._subagent_for(first_user_text(messages)) if messages else None
        if agent is not None:
            idx = sum(1 for m in messages if m.get("role") == "assistant")
            replies = list(agent.get("replies") or [])
            self._record("anthropic", "subagent", str(agent["tier"]), body,
                         note=f"reply {idx}")
            if idx < len(replies):
                reply = replies[idx]
                text, actions = str(reply.get("say", "")), list(reply.get("do") or [])
            else:
                text, actions = agent.get("result", "Finished; nothing else found."), []
            return await self._send_anthropic(request, body, self._claude_blocks(
                text, actions, cwd), "tool_use" if actions else "end_turn")
        idx = reply_index_anthropic(messages)
        if not body.get("tools"):
            # A side request with no tools that is not a title (should not happen; keep it
            # out of the corpus, but say so).
            self.unknown.append(json.dumps(body)[:300])
            return await self._send_anthropic(request, body, [{"type": "text",
                                                               "text": "ok"}], "end_turn")
        self._record("anthropic", "main", self._step_tier(idx), body, note=f"reply {idx}")
        text, actions, _ = self._reply(idx)
        return await self._send_anthropic(request, body, self._claude_blocks(text, actions, cwd),
                                          "tool_use" if actions else "end_turn")

    def _claude_blocks(self, text: str, actions: list[dict[str, Any]],
                       cwd: Path) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if text:
            blocks.append({"type": "text", "text": text})
        for call in claude_calls(actions, cwd):
            blocks.append({"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:24],
                           "name": call["name"], "input": call["input"]})
        return blocks

    async def _send_anthropic(self, request: web.Request, body: dict[str, Any],
                              blocks: list[dict[str, Any]], stop: str) -> web.StreamResponse:
        model = str(body.get("model", "claude"))
        msg_id = "msg_" + uuid.uuid4().hex[:24]
        usage = {"input_tokens": max(1, len(json.dumps(body)) // 4), "output_tokens": 20,
                 "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        if not body.get("stream"):
            return web.json_response({"id": msg_id, "type": "message", "role": "assistant",
                                      "model": model, "content": blocks, "stop_reason": stop,
                                      "stop_sequence": None, "usage": usage})
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)

        async def send(event: str, data: dict[str, Any]) -> None:
            await resp.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())

        await send("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {**usage, "output_tokens": 1}}})
        for i, block in enumerate(blocks):
            if block["type"] == "text":
                await send("content_block_start", {"type": "content_block_start", "index": i,
                                                   "content_block": {"type": "text", "text": ""}})
                await send("content_block_delta", {"type": "content_block_delta", "index": i,
                                                   "delta": {"type": "text_delta",
                                                             "text": block["text"]}})
            else:
                await send("content_block_start", {"type": "content_block_start", "index": i,
                                                   "content_block": {**block, "input": {}}})
                await send("content_block_delta", {"type": "content_block_delta", "index": i,
                                                   "delta": {"type": "input_json_delta",
                                                             "partial_json": json.dumps(
                                                                 block["input"])}})
            await send("content_block_stop", {"type": "content_block_stop", "index": i})
        await send("message_delta", {"type": "message_delta", "delta": {
            "stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 20}})
        await send("message_stop", {"type": "message_stop"})
        await resp.write_eof()
        return resp

    # -- OpenAI Chat Completions (opencode) ---------------------------------------------

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        try:
            body = await request.json()
            return await self._answer_chat(request, body)
        finally:
            self.in_flight -= 1
            self.last_activity = time.monotonic()

    async def _answer_chat(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        live = self.live
        if live is None:
            return web.json_response({"error": {"message": "no live step",
                                                "type": "server_error"}}, status=500)
        messages = body.get("messages") or []
        system = "\n".join(t for m in messages if m.get("role") == "system"
                           for t in _texts(m.get("content")))
        calls: list[dict[str, Any]] = []
        if not body.get("tools") and "title" in system.lower():
            self._record("openai", "title", "compact", body)
            text = live.step.get("title", "Fix failing tests")
        elif "summar" in system.lower() and not body.get("tools"):
            self._record("openai", "compaction", "compact", body)
            text = live.step.get("summary") or "We worked on the repo."
            self.final_served.set()
        elif not body.get("tools"):
            self.unknown.append(json.dumps(body)[:300])
            text = "ok"
        else:
            agent = self._subagent_for(first_user_text(messages))
            if agent is not None:
                idx = sum(1 for m in messages if m.get("role") == "assistant")
                self._record("openai", "subagent", str(agent["tier"]), body)
                replies = list(agent.get("replies") or [])
                reply = replies[idx] if idx < len(replies) else {
                    "say": agent.get("result", "Finished.")}
                text = str(reply.get("say", ""))
                calls = opencode_calls(list(reply.get("do") or []), live.cwd)
            else:
                idx = reply_index_openai(messages)
                self._record("openai", "main", self._step_tier(idx), body, note=f"reply {idx}")
                text, actions, _ = self._reply(idx)
                calls = opencode_calls(actions, live.cwd)
        return await self._send_chat(request, body, text, calls)

    async def _send_chat(self, request: web.Request, body: dict[str, Any], text: str,
                         calls: list[dict[str, Any]]) -> web.StreamResponse:
        base = {"id": "chatcmpl-" + uuid.uuid4().hex[:12], "object": "chat.completion.chunk",
                "created": int(time.time()), "model": body.get("model", "fusion")}
        tool_calls = [{"id": "call_" + uuid.uuid4().hex[:12], "type": "function",
                       "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])}}
                      for c in calls]
        finish = "tool_calls" if tool_calls else "stop"
        usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": text or None}
            if tool_calls:
                message["tool_calls"] = tool_calls
            return web.json_response({**base, "object": "chat.completion", "choices": [
                {"index": 0, "message": message, "finish_reason": finish}], "usage": usage})
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        if text:
            deltas.append({"content": text})
        for i, call in enumerate(tool_calls):
            deltas.append({"tool_calls": [{"index": i, **call}]})
        frames = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]}
                  for d in deltas]
        frames.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        frames.append({**base, "choices": [], "usage": usage})
        for frame in frames:
            await resp.write(b"data: " + json.dumps(frame).encode() + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    # -- Responses (Codex) --------------------------------------------------------------

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        try:
            body = await request.json()
            return await self._answer_responses(request, body)
        finally:
            self.in_flight -= 1
            self.last_activity = time.monotonic()

    async def _answer_responses(self, request: web.Request,
                                body: dict[str, Any]) -> web.StreamResponse:
        live = self.live
        if live is None:
            return web.json_response({"error": {"message": "no live step",
                                                "type": "server_error"}}, status=500)
        items = [i for i in (body.get("input") or []) if isinstance(i, dict)]
        tools = [t for t in (body.get("tools") or []) if isinstance(t, dict)]
        if not tools:
            kind = "compaction" if live.step.get("kind") == "compact" else "title"
            self._record("responses", kind, "compact", body)
            text = live.step.get("summary") or live.step.get("title", "Fix failing tests")
            calls: list[dict[str, Any]] = []
            self.final_served.set()
        else:
            idx = reply_index_responses(items)
            self._record("responses", "main", self._step_tier(idx), body, note=f"reply {idx}")
            text, actions, _ = self._reply(idx)
            calls = codex_calls(actions, tools)
        return await self._send_responses(request, body, text, calls)

    async def _send_responses(self, request: web.Request, body: dict[str, Any], text: str,
                              calls: list[dict[str, Any]]) -> web.StreamResponse:
        output: list[dict[str, Any]] = []
        if text:
            output.append({"type": "message", "id": "msg_" + uuid.uuid4().hex[:12],
                           "status": "completed", "role": "assistant", "content": [
                               {"type": "output_text", "text": text, "annotations": []}]})
        for call in calls:
            output.append({"type": "function_call", "id": "fc_" + uuid.uuid4().hex[:12],
                           "call_id": "call_" + uuid.uuid4().hex[:12], "name": call["name"],
                           "status": "completed", "arguments": json.dumps(call["arguments"])})
        final = {"id": "resp_" + uuid.uuid4().hex[:12], "object": "response",
                 "created_at": int(time.time()), "status": "completed",
                 "model": body.get("model", "fusion"), "output": output,
                 "usage": {"input_tokens": 100, "input_tokens_details": {"cached_tokens": 0},
                           "output_tokens": 20, "output_tokens_details": {"reasoning_tokens": 0},
                           "total_tokens": 120}, "error": None, "incomplete_details": None}
        if not body.get("stream"):
            return web.json_response(final)
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        shell = {**final, "status": "in_progress", "output": [], "usage": None}
        events: list[dict[str, Any]] = [{"type": "response.created", "response": shell},
                                        {"type": "response.in_progress", "response": shell}]
        for index, item in enumerate(output):
            if item["type"] == "message":
                events.append({"type": "response.output_item.added", "output_index": index,
                               "item": {**item, "status": "in_progress", "content": []}})
                events.append({"type": "response.content_part.added", "output_index": index,
                               "item_id": item["id"], "content_index": 0,
                               "part": {"type": "output_text", "text": "", "annotations": []}})
                events.append({"type": "response.output_text.delta", "output_index": index,
                               "item_id": item["id"], "content_index": 0, "delta": text})
                events.append({"type": "response.output_text.done", "output_index": index,
                               "item_id": item["id"], "content_index": 0, "text": text})
            else:
                events.append({"type": "response.output_item.added", "output_index": index,
                               "item": {**item, "arguments": "", "status": "in_progress"}})
                events.append({"type": "response.function_call_arguments.delta",
                               "output_index": index, "item_id": item["id"],
                               "delta": item["arguments"]})
                events.append({"type": "response.function_call_arguments.done",
                               "output_index": index, "item_id": item["id"],
                               "arguments": item["arguments"]})
            events.append({"type": "response.output_item.done", "output_index": index,
                           "item": item})
        events.append({"type": "response.completed", "response": final})
        for n, event in enumerate(events):
            payload = {**event, "sequence_number": n}
            await resp.write(f"event: {event['type']}\n".encode() + b"data: "
                             + json.dumps(payload).encode() + b"\n\n")
        await resp.write_eof()
        return resp

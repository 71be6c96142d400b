"""The wire protocols the proxy speaks, to clients and to upstreams: a closed set."""

from __future__ import annotations

from enum import StrEnum


class Wire(StrEnum):
    """A wire protocol: Anthropic Messages, OpenAI Chat Completions, OpenAI Responses."""

    ANTHROPIC = "anthropic"
    OPENAI = "openai"
    RESPONSES = "responses"

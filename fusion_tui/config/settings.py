"""The settings schema. This is a public contract: users' config files rely on these names."""

from __future__ import annotations

import ipaddress
import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fusion_tui.config import paths
from fusion_tui.config.council import (
    CouncilSettings,
    PanelSettings,
    Price,
    check_self_consistency,
)
from fusion_tui.config.embeddings import EmbeddingSettings, GateSettings
from fusion_tui.config.keymap import check_keymap
from fusion_tui.config.spend import (
    BudgetSettings,
    EffortTable,
    EscalationSettings,
    SavingsSettings,
    SwitchSettings,
)
from fusion_tui.config.tiers import RoutingMode

UpstreamType = Literal["anthropic", "openai", "openai-compatible", "openai-responses", "codex",
                       "ollama", "simulated"]
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]

# Where each type's API lives when base_url is not given.
DEFAULT_BASE_URLS = {"anthropic": "https://api.anthropic.com",
                     "openai": "https://api.openai.com/v1",
                     "ollama": "http://127.0.0.1:11434",
                     "openai-responses": "https://api.openai.com/v1",
                     "codex": "https://chatgpt.com/backend-api/codex"}


_HOSTNAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*\.?")


def check_base_url(url: str) -> str:
    """An http(s) URL with a host, or ValueError saying what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"base_url {url!r} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"base_url {url!r} must start with http:// or https://")
    if not parts.hostname:
        raise ValueError(f"base_url {url!r} names no host")
    if port == 0:
        raise ValueError(f"base_url {url!r}: port 0")
    if parts.username or parts.password:
        raise ValueError(f"base_url {url!r}: credentials in a URL are not sent; use "
                         "api_key_env")
    return url


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class ServerSettings(_Strict):
    host: str = "127.0.0.1"
    """Address to listen on. Loopback by default."""
    port: int = Field(8787, ge=0, le=65535)
    """TCP port to listen on (0 picks a free one)."""
    auth_key_env: str | None = None
    """Name of an environment variable holding the key clients must send; null: no client auth."""
    max_body_mb: float = Field(32.0, gt=0)
    """Largest request body accepted, in MiB."""
    header_timeout_s: float = Field(60.0, gt=0)
    """A connection that has not sent a complete request head for this long (a stalled
    client, an idle keep-alive) is closed."""
    body_timeout_s: float = Field(120.0, gt=0)
    """Time a client has to send its whole request body; past it the answer is a 408."""
    allow_remote_without_auth: bool = False
    """Listen on a non-loopback address with client auth off (refused unless true; the
    command-line flag --allow-remote-without-auth sets it too)."""

    @field_validator("host")
    @classmethod
    def _check_host(cls, host: str) -> str:
        bare = host.strip()
        if bare.startswith("[") and bare.endswith("]"):  # URL notation of an IPv6 address
            bare = bare[1:-1]
        try:
            return str(ipaddress.ip_address(bare))
        except ValueError:
            pass
        if not _HOSTNAME.fullmatch(bare):
            raise ValueError(f"{host!r} is neither an IP address nor a host name")
        return bare


class FaultSettings(_Strict):
    """Fault knobs of the simulated upstream, for reliability tests."""

    status: int | None = Field(None, ge=400, le=599)
    """Answer every failing request with this HTTP status."""
    retry_after_s: float | None = Field(None, ge=0)
    """Send a Retry-After header with failures."""
    fail_first_n: int = Field(0, ge=0)
    """Fail only the first N requests (0 with `status` set: fail every request)."""
    cut_after_events: int | None = Field(None, ge=1)
    """Cut streams after this many SSE events, without a final event."""


class UpstreamSettings(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    """Unique id, used in pools and in x-fusion-route."""
    type: UpstreamType
    """Wire protocol: anthropic (Messages API); openai and openai-compatible (Chat
    Completions); ollama (its OpenAI-compatible API, models from /api/tags); or simulated (a
    built-in model for demos and tests); openai-responses (the OpenAI Responses API with an
    API key); codex (the Responses API of the ChatGPT Codex backend, signed in with the Codex
    CLI's ChatGPT tokens). Clients of any protocol can use any type."""
    model: str
    """Model name sent upstream."""
    base_url: str | None = None
    """Base URL of the API. anthropic: without /v1 (default https://api.anthropic.com).
    openai, openai-compatible: what the OpenAI SDK calls base_url, the prefix of
    /chat/completions, usually ending in /v1 (default for openai https://api.openai.com/v1;
    a bare origin such as http://host:8000 gets /v1 appended). ollama: the server root
    (default http://127.0.0.1:11434). openai-responses: the prefix of /responses (default
    https://api.openai.com/v1). codex: the prefix of /responses on the ChatGPT backend
    (default https://chatgpt.com/backend-api/codex)."""
    api_key_env: str | None = None
    """Name of the environment variable holding the API key (sent as x-api-key to anthropic,
    as Authorization: Bearer to the others). Keys are never put in config."""
    timeout_s: float = Field(600.0, gt=0)
    """Connect, first-byte and idle-gap timeout for one call, in seconds; each applies for
    the whole of a stream (a stream may last longer, but never go quiet longer)."""
    deadline_s: float = Field(900.0, gt=0)
    """Total time one call may take, connecting to the stream's last byte, in seconds; past
    it the call fails (before the first byte reached the client: failover; after: an error
    event) with an error naming this setting."""
    max_body_mb: float = Field(64.0, gt=0)
    """Largest answer accepted from this upstream, whole or streamed, in MiB after
    decompression; a larger one is cut with an error naming this setting."""
    max_event_mb: float = Field(8.0, gt=0)
    """Largest single SSE event accepted from this upstream, in MiB after decompression."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra headers sent with every call (e.g. OpenRouter's HTTP-Referer and X-Title)."""
    max_output_tokens: int | None = Field(None, ge=1)
    """Cap on the answer's tokens: a client's max_tokens (or max_completion_tokens) above it
    is lowered to it; also the max_tokens sent to an anthropic upstream when an OpenAI client
    set none."""
    reasoning_effort: ReasoningEffort | None = None
    """Reasoning effort sent with every call, in the upstream protocol's own field:
    output_config.effort for anthropic, reasoning_effort for the OpenAI types,
    reasoning.effort for openai-responses and codex. Null: the
    client's own value (if any) passes through; nothing is added."""
    first_token_ms: float = Field(30.0, ge=0)
    """simulated: delay before the first token."""
    tokens_per_s: float = Field(200.0, gt=0)
    """simulated: streaming speed."""
    fault: FaultSettings = Field(default_factory=FaultSettings)
    """simulated: fault injection."""
    price: Price | None = None
    """US dollars per million tokens (input, output, cache_read, cache_write); null: the
    genai-prices table for a known model id, $0 for simulated and loopback upstreams, else
    "price unknown" (never $0)."""
    codex_home: str | None = None
    """codex: folder holding the Codex CLI's auth.json (default $CODEX_HOME, else ~/.codex).
    Tokens are read from it, refreshed when expired and written back in the same format."""
    oauth_token_url: str | None = None
    """codex: OAuth token endpoint for refreshing (default https://auth.openai.com/oauth/token,
    the one the Codex CLI uses)."""
    oauth_client_id: str | None = None
    """codex: OAuth client id for refreshing (default the Codex CLI's public client id)."""

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, url: str | None) -> str | None:
        return None if url is None else check_base_url(url.strip())

    @model_validator(mode="after")
    def _needs_base_url(self) -> UpstreamSettings:
        if not self.base_url and self.type in DEFAULT_BASE_URLS:
            self.base_url = DEFAULT_BASE_URLS[self.type]
        if self.type == "openai-compatible" and not self.base_url:
            raise ValueError(f"upstream {self.id}: type openai-compatible needs base_url")
        return self

    @property
    def simulated(self) -> bool:
        """True for the built-in simulated model."""
        return self.type == "simulated"

    def api_key(self) -> str | None:
        """The API key from the environment, if configured and set."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None


class PoolSettings(_Strict):
    actor: list[str] = Field(default_factory=list)
    """Upstream ids that act (answer with tools); the first serves `single` mode."""
    compact: list[str] = Field(default_factory=list)
    """Fast models for trivial work."""
    regular: list[str] = Field(default_factory=list)
    """Round-robin pool for normal work."""
    council: list[str] = Field(default_factory=list)
    """Advisors for council-then-act."""
    judge: list[str] = Field(default_factory=list)
    """Who writes the briefing or fuses a panel."""
    panel: list[str] = Field(default_factory=list)
    """Members answering tool-free hard requests."""


class FailoverSettings(_Strict):
    """Retries across a pool and the per-upstream circuit breaker."""

    breaker_threshold: int = Field(3, ge=1)
    """Consecutive failures that open an upstream's breaker."""
    breaker_base_s: float = Field(5.0, gt=0)
    """First open period; doubles with each trip."""
    breaker_max_s: float = Field(120.0, gt=0)
    """Longest open period."""
    max_retry_wait_s: float = Field(5.0, ge=0)
    """Longest Retry-After the proxy waits out itself when no other upstream is left."""


class RoutingSettings(_Strict):
    mode: RoutingMode = RoutingMode.SINGLE
    """single: the first actor serves everything; smart: the gate picks a tier per request;
    all: tool-free requests go to the panel."""
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    """The local embedding model the gate runs on (smart mode)."""
    gate: GateSettings = Field(default_factory=GateSettings)
    """Segment bounds, harness detection and classifier knobs."""
    failover: FailoverSettings = Field(default_factory=FailoverSettings)
    """Retry order and circuit breaker."""
    affinity_max_sessions: int = Field(10_000, ge=1)
    """Sessions whose actor pin is remembered (least recently used forgotten first)."""
    effort: EffortTable = Field(default_factory=dict)
    """Reasoning effort per tier, e.g. {compact: low, regular: medium, plan: high}, sent in
    the client protocol's own field (output_config.effort, reasoning_effort,
    reasoning.effort) and said in the route (`effort=high`). Empty: no effort is added."""
    effort_by_upstream: dict[str, EffortTable] = Field(default_factory=dict)
    """Per-upstream effort per tier, winning over `effort` for that upstream."""
    effort_override: bool = False
    """Replace an effort the client asked for (false: the client's own value is kept and
    the route says `effort:client`)."""
    switch: SwitchSettings = Field(default_factory=SwitchSettings)
    """Stay or switch: sticky regular members and priced model switches."""
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    """Raise the tier after failing tool results."""


class RecordMode(StrEnum):
    """What a session recording keeps (sessions.record)."""

    FULL = "full"
    """Request and response bodies too."""
    METADATA = "metadata"
    """Only the events' facts."""


class SessionSettings(_Strict):
    dir: Path = Field(default_factory=paths.sessions_dir)
    """Folder for session recordings (one JSONL file per session); default: `sessions/` in the
    platform's data folder (~/.local/share/fusion-tui on Linux)."""
    record: RecordMode = RecordMode.FULL
    """full keeps request and response bodies; metadata keeps only the events' facts."""
    keep_days: float | None = Field(None, gt=0)
    """Recordings older than this are removed at start-up (null: kept forever)."""
    max_mb: float | None = Field(None, gt=0)
    """The oldest recordings are removed at start-up until the folder fits (null: no limit)."""

    @field_validator("dir")
    @classmethod
    def _check_dir(cls, folder: Path) -> Path:
        path = folder.expanduser()
        for place in (path, *path.parents):
            if place.exists():
                if not place.is_dir():
                    raise ValueError(f"{place} is a file, not a folder: recordings cannot "
                                     "be written under it")
                break
        return folder

    @property
    def path(self) -> Path:
        """`dir` with ~ expanded."""
        return self.dir.expanduser()


class UiSettings(_Strict):
    """Dashboard appearance."""

    theme: str | None = None
    """Theme used when none was chosen with `t` before (the choice is remembered)."""


class Settings(BaseSettings):
    """The whole configuration. Sources, strongest first: FUSION_ environment variables
    (nested with `__`, e.g. FUSION_SERVER__PORT=9000), then the YAML file."""

    model_config = SettingsConfigDict(
        env_prefix="FUSION_", env_nested_delimiter="__", extra="forbid",
        use_attribute_docstrings=True,
    )

    server: ServerSettings = Field(default_factory=ServerSettings)
    """Where the proxy listens."""
    upstreams: list[UpstreamSettings] = Field(default_factory=list)
    """Models the proxy can call."""
    pools: PoolSettings = Field(default_factory=PoolSettings)
    """Which upstreams play which part."""
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    """How requests are routed."""
    sessions: SessionSettings = Field(default_factory=SessionSettings)
    """Where and how sessions are recorded."""
    council: CouncilSettings = Field(default_factory=CouncilSettings)
    """Council-then-act on tool turns."""
    panel: PanelSettings = Field(default_factory=PanelSettings)
    """The panel for tool-free hard requests."""
    keymap: dict[str, str] = Field(default_factory=dict)
    """Dashboard key remapping: binding id -> keys (comma-separated), e.g.
    {tier_plan: "3,f3"}. The ids are listed in docs/dashboard.md and on the help screen; an
    unknown id is an error."""
    ui: UiSettings = Field(default_factory=lambda: UiSettings())
    """Dashboard appearance."""
    savings: SavingsSettings = Field(default_factory=SavingsSettings)
    """The baseline the routed cost is compared with."""
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    """Session and daily spending limits."""

    @field_validator("keymap")
    @classmethod
    def _check_keymap(cls, keymap: dict[str, str]) -> dict[str, str]:
        return check_keymap(keymap)

    @model_validator(mode="after")
    def _check_references(self) -> Settings:
        ids = [u.id for u in self.upstreams]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"upstream ids must be unique; repeated: {', '.join(dupes)}")
        known = set(ids)
        for pool_name in PoolSettings.model_fields:
            for member in getattr(self.pools, pool_name):
                if member not in known:
                    raise ValueError(
                        f"pools.{pool_name} names '{member}', which is not an upstream id "
                        f"(known: {', '.join(ids) or 'none'})")
        if not self.pools.actor:
            raise ValueError("pools.actor must name at least one upstream")
        for upstream_id in self.routing.effort_by_upstream:
            if upstream_id not in known:
                raise ValueError(f"routing.effort_by_upstream names '{upstream_id}', which is "
                                 f"not an upstream id (known: {', '.join(ids)})")
        if self.savings.baseline is not None and self.savings.baseline not in known:
            raise ValueError(f"savings.baseline names '{self.savings.baseline}', which is not "
                             f"an upstream id (known: {', '.join(ids)})")
        for advisor in self.council.advisors:
            if advisor not in known:
                raise ValueError(f"council.advisors names '{advisor}', which is not an "
                                 f"upstream id (known: {', '.join(ids)})")
        check_self_consistency(self.council.self_consistency, self.upstreams, self.pools.actor)
        return self

    def upstream(self, upstream_id: str) -> UpstreamSettings:
        """The upstream with this id (KeyError if none)."""
        for u in self.upstreams:
            if u.id == upstream_id:
                return u
        raise KeyError(upstream_id)

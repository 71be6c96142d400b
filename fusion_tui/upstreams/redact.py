"""Credentials out of every upstream byte: whole bodies, and streams where a secret may be
split across chunks."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

REDACTED = b"[redacted]"
MIN_SECRET = 6
"""Shorter header values are not treated as secrets (replacing them would mangle answers)."""

SECRET_HEADERS = frozenset({"x-api-key", "authorization", "api-key", "proxy-authorization",
                            "cookie", "x-goog-api-key"})
"""Request headers whose values are credentials (a Bearer token without its scheme)."""
SECRET_WORDS = ("key", "token", "secret", "auth", "password", "cookie")
"""A header whose name holds one of these is treated as a credential too (a user's extra
`headers:` in the upstream config)."""


@functools.lru_cache(maxsize=512)
def is_secret_header(name: str) -> bool:
    """True when a header of that name carries a credential."""
    lowered = name.lower()
    return lowered in SECRET_HEADERS or any(word in lowered for word in SECRET_WORDS)


def secrets_in(headers: Mapping[str, str], extra: Iterable[str] = ()) -> list[bytes]:
    """Every credential in `headers` (and `extra`), longest first, as bytes."""
    found: set[bytes] = set()
    for name, value in headers.items():
        if not is_secret_header(name):
            continue
        found.add(value.strip().encode("utf-8", "surrogateescape"))
        if value[:7].lower() == "bearer ":
            found.add(value[7:].strip().encode("utf-8", "surrogateescape"))
    found.update(s.strip().encode("utf-8", "surrogateescape") for s in extra if s)
    return sorted((s for s in found if len(s) >= MIN_SECRET), key=len, reverse=True)


def redact(payload: bytes, secrets: Iterable[bytes]) -> bytes:
    """`payload` with every secret replaced by `[redacted]`."""
    for secret in secrets:
        if secret in payload:
            payload = payload.replace(secret, REDACTED)
    return payload


class StreamRedactor:
    """Redacts a byte stream chunk by chunk. The end of a chunk that could be the start of a
    secret is held back until the next chunk says whether it is; nothing else is delayed."""

    def __init__(self, secrets: list[bytes]) -> None:
        self.secrets = secrets
        self._held = b""

    def feed(self, chunk: bytes) -> bytes:
        """What of the stream so far may go out now."""
        if not self.secrets:
            return chunk
        data = redact(self._held + chunk, self.secrets)
        hold = 0
        for secret in self.secrets:
            # The earliest place in the last len(secret) - 1 bytes where what is left of the
            # data is a beginning of the secret: usually none (a chunk ends in "\n\n").
            start = data.find(secret[:1], max(0, len(data) - len(secret) + 1))
            while start != -1:
                if secret.startswith(data[start:]):
                    hold = max(hold, len(data) - start)
                    break
                start = data.find(secret[:1], start + 1)
        self._held = data[len(data) - hold:] if hold else b""
        return data[:len(data) - hold] if hold else data

    def flush(self) -> bytes:
        """The bytes still held back, at the end of the stream."""
        held, self._held = self._held, b""
        return held

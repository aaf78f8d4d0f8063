"""What a protocol handler answers: status, headers and body, before the server writes it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: object, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status, json.dumps(payload).encode("utf-8"), "application/json", dict(headers or {})
        )

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain") -> Reply:
        return cls(status, text.encode("utf-8"), content_type)

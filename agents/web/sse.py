"""Server-sent events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html)."""

from __future__ import annotations

import json
from typing import Any


def sse_frame(event: str, data: Any) -> bytes:
    """`event: NAME` and one `data:` line of compact JSON (which holds no raw newline)."""
    if not event or any(c in event for c in "\r\n:"):
        raise ValueError(f"SSE event name {event!r} must be one word")
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"event: {event}\ndata: {payload}\n\n".encode()

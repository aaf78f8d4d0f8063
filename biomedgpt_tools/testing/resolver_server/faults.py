"""Faults a test injects into the next requests to one service (one fault per request)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """An error status (JSON fault or HTML maintenance page) or a delay before the normal answer.

    Build them with ``Fault.status(503, html=True, retry_after=2)`` or ``Fault.delay(5.0)``.
    """

    kind: str  # "status" | "delay"
    code: int = 0
    html: bool = False
    retry_after: float | None = None
    seconds: float = 0.0

    @classmethod
    def status(cls, code: int, html: bool = False, retry_after: float | None = None) -> Fault:
        """Answer with this HTTP status and the service's error body (or an HTML page)."""
        if not 400 <= code <= 599:
            raise ValueError(f"Fault.status needs a 4xx/5xx code, got {code}")
        return cls(kind="status", code=code, html=html, retry_after=retry_after)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Wait this long before answering normally (to exceed a client's read timeout)."""
        if seconds < 0:
            raise ValueError(f"Fault.delay needs seconds >= 0, got {seconds}")
        return cls(kind="delay", seconds=seconds)

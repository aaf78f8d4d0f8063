"""Package names resolved on first use (PEP 562), so importing a light submodule of a package
never pays for its heavy ones (torch under model/, the MCP SDK under mcp_server/)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any


def lazy_export(package: str, exports: Mapping[str, str], name: str) -> Any:
    """`name` from the submodule `exports` maps it to; what a package's `__getattr__` returns."""
    if name in exports:
        return getattr(importlib.import_module(f".{exports[name]}", package), name)
    raise AttributeError(f"module {package!r} has no attribute {name!r}")

"""The package version, in a leaf module so that parts below the package root (the store
stamps it on every record and export) read it without importing the root, which lazily
reaches the tools and would close an import circle."""

from __future__ import annotations

__version__ = "0.1.0"

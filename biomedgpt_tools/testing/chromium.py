"""The headless Chromium the page tests and the web benchmark drive (Debian's, from make setup)."""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("BIOMEDGPT_CHROMIUM", "/usr/bin/chromium")
# Headless, no sandbox (containers), and nothing that reaches the network on its own.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

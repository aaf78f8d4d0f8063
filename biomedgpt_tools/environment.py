"""Reading the environment into typed values, and the one home folder every part shares.

A value a variable cannot take (`BIOMEDGPT_OFFLINE=maybe`, a URL without http://, a file where
a folder should be) is a SettingsError naming the variable and what it takes, raised where the
variable is read rather than as a surprise later. Every default folder (annotation store,
resolver cache, demo model, derived vLLM LM folders, assistant threads) sits under
`biomedgpt_home()`, so one variable moves them all, on every platform the same way.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

HOME_ENV = "BIOMEDGPT_HOME"
APP_NAME = "biomedgpt"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """An environment variable holds a value it cannot take; the message names the variable,
    the value and the values it takes (the commands print it as one line)."""


def env_flag(name: str, default: bool) -> bool:
    """A yes/no variable: 1/true/yes/on or 0/false/no/off (any case); unset: `default`."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False if value else default
    raise SettingsError(
        f"{name}={raw!r} is not a yes/no value: use 1, true, yes, on or 0, false, no, off"
    )


def env_url(name: str, default: str | None) -> str | None:
    """An http(s) URL variable; unset or empty: `default`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not re.match(r"^https?://[^\s/]+", raw):
        raise SettingsError(
            f"{name}={raw!r} is not a URL: use http://HOST[:PORT][/PATH] or https://..."
        )
    return raw


def env_folder(name: str) -> Path | None:
    """A folder variable: None when unset or empty; an existing file there is refused."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if path.exists() and not path.is_dir():
        raise SettingsError(
            f"{name}={raw!r} is a file, not a folder: point it at a folder (or unset it)"
        )
    return path


def biomedgpt_home() -> Path:
    """$BIOMEDGPT_HOME, else the platform's user data folder (~/.local/share/biomedgpt on Linux,
    %LOCALAPPDATA%\\biomedgpt on Windows: no author level, so every part agrees)."""
    return env_folder(HOME_ENV) or platformdirs.user_data_path(APP_NAME, appauthor=False)

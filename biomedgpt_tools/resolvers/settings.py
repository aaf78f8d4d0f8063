"""Resolver configuration: endpoints, timeouts, retry and rate policy, cache and offline mode.

`ResolverSettings.from_env()` reads BIOMEDGPT_PUBCHEM_URL, BIOMEDGPT_UNIPROT_URL,
BIOMEDGPT_OFFLINE, BIOMEDGPT_CACHE_DIR and BIOMEDGPT_HOME, so the same code runs against PubChem/UniProt, a
mirror or the test server. Delays are fields (not constants) so tests can shrink them.
A value a variable cannot take (`BIOMEDGPT_OFFLINE=maybe`, a URL without http://) is a
SettingsError naming the variable and what it takes, not a surprise later.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs

DEFAULT_PUBCHEM_URL = "https://pubchem.ncbi.nlm.nih.gov/rest/pug"
DEFAULT_UNIPROT_URL = "https://rest.uniprot.org"
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
    raise SettingsError(f"{name}={raw!r} is not a yes/no value: use 1, true, yes, on or 0, false, no, off")


def env_url(name: str, default: str | None) -> str | None:
    """An http(s) URL variable; unset or empty: `default`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not re.match(r"^https?://[^\s/]+", raw):
        raise SettingsError(f"{name}={raw!r} is not a URL: use http://HOST[:PORT][/PATH] or https://...")
    return raw


def env_folder(name: str) -> Path | None:
    """A folder variable: None when unset or empty; an existing file there is refused."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if path.exists() and not path.is_dir():
        raise SettingsError(f"{name}={raw!r} is a file, not a folder: point it at a folder (or unset it)")
    return path


@dataclass(frozen=True)
class RatePolicy:
    """At most `per_second` requests in any second and `per_minute` in any minute."""

    per_second: int
    per_minute: int
    # safety margin added to each window, covering the delay between our clock and the server's
    margin_s: float = 0.05


def default_cache_dir() -> Path:
    """BIOMEDGPT_CACHE_DIR, else $BIOMEDGPT_HOME/resolver-cache (the root of all the tools'
    caches), else the platform's user data dir (e.g. ~/.local/share/biomedgpt/resolver-cache)."""
    override = env_folder("BIOMEDGPT_CACHE_DIR")
    if override:
        return override
    home = env_folder("BIOMEDGPT_HOME")
    if home:
        return home / "resolver-cache"
    return Path(platformdirs.user_data_dir("biomedgpt", appauthor=False)) / "resolver-cache"


@dataclass(frozen=True)
class ResolverSettings:
    pubchem_url: str = DEFAULT_PUBCHEM_URL
    uniprot_url: str = DEFAULT_UNIPROT_URL
    offline: bool = False
    cache_dir: Path | None = None  # None: default_cache_dir()
    use_cache: bool = True
    use_snapshot: bool = True  # the bundled snapshot answers when offline
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0  # PubChem's own limit is 30 s
    # whole lookup, retries included: an agent never waits longer than this on one request
    deadline_s: float = 90.0
    max_retries: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 20.0
    max_retry_after_s: float = 60.0  # a longer Retry-After is reported as unavailable
    positive_ttl_s: float = 30 * 24 * 3600.0
    negative_ttl_s: float = 3600.0  # not found / ambiguous / obsolete are re-asked sooner
    pubchem_rate: RatePolicy = field(default_factory=lambda: RatePolicy(5, 400))
    uniprot_rate: RatePolicy = field(default_factory=lambda: RatePolicy(5, 300))
    # processes sharing cache_dir share one rate budget per service (rate-budget.sqlite3)
    shared_rate_budget: bool = True
    pubchem_batch_size: int = 200  # CIDs per property POST
    uniprot_batch_size: int = 100  # accessions per `accessions` GET (URL length)
    max_candidates: int = 10
    uniprot_page_size: int = 25  # search results per page (Link: rel="next" is followed)
    uniprot_max_search_results: int = 50  # gathered before ranking candidates
    user_agent: str = "biomedgpt-tools/0.1 (resolvers)"

    @classmethod
    def from_env(cls, **overrides: object) -> ResolverSettings:
        values: dict[str, object] = {
            "pubchem_url": env_url("BIOMEDGPT_PUBCHEM_URL", DEFAULT_PUBCHEM_URL),
            "uniprot_url": env_url("BIOMEDGPT_UNIPROT_URL", DEFAULT_UNIPROT_URL),
            "offline": env_flag("BIOMEDGPT_OFFLINE", False),
            "cache_dir": default_cache_dir(),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_changes(self, **changes: object) -> ResolverSettings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else default_cache_dir()

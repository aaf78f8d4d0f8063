"""Resolver configuration: endpoints, timeouts, retry and rate policy, cache and offline mode.

`ResolverSettings.from_env()` reads BIOMEDGPT_PUBCHEM_URL, BIOMEDGPT_UNIPROT_URL,
BIOMEDGPT_OFFLINE, BIOMEDGPT_CACHE_DIR and BIOMEDGPT_HOME, so the same code runs against PubChem/UniProt, a
mirror or the test server. Delays are fields (not constants) so tests can shrink them.
A value a variable cannot take (`BIOMEDGPT_OFFLINE=maybe`, a URL without http://) is a
SettingsError naming the variable and what it takes, not a surprise later.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from biomedgpt_tools.environment import biomedgpt_home, env_flag, env_folder, env_url

DEFAULT_PUBCHEM_URL = "https://pubchem.ncbi.nlm.nih.gov/rest/pug"
DEFAULT_UNIPROT_URL = "https://rest.uniprot.org"


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
    return biomedgpt_home() / "resolver-cache"


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

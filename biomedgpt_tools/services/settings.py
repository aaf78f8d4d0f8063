"""Settings of the services (model backend, resolvers, store) from arguments or the environment.

Environment variables (all optional; with none set the services still work: no model, the
public PubChem/UniProt endpoints, a store under the user's data folder):

- BIOMEDGPT_MODEL: folder of a saved BioMedGPT model (`BioMedGPT.from_pretrained`); unset
  means the "none" backend.
- BIOMEDGPT_SERVER_URL: a `biomedgpt serve` server (http://HOST:PORT) that answers instead of a
  model in this process (the "remote" backend; it wins over BIOMEDGPT_MODEL). BIOMEDGPT_API_KEY:
  its API key, if it has one.
- BIOMEDGPT_DEVICE: torch device for the in-process model ("cpu", "cuda", "cuda:1").
- BIOMEDGPT_HOME: root of the annotation store (BIOMEDGPT_HOME/annotations) and caches.
- BIOMEDGPT_CHROMA_URL: a Chroma server for the store instead of the embedded folder.
- BIOMEDGPT_MEMORY: "0" turns the annotation store off (nothing recalled or saved).
- BIOMEDGPT_ON_TOO_LONG: "truncate" (default) or "error", for proteins longer than the 1022
  residues ESM-2 reads (ProteinQA, bulk annotation).
- BIOMEDGPT_PUBCHEM_URL, BIOMEDGPT_UNIPROT_URL, BIOMEDGPT_OFFLINE, BIOMEDGPT_CACHE_DIR: read
  by the resolvers' own settings.

A value a variable cannot take (BIOMEDGPT_ON_TOO_LONG=cut, BIOMEDGPT_MEMORY=maybe,
BIOMEDGPT_DEVICE=gpu) is a SettingsError naming the variable and the values it takes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from biomedgpt_tools.environment import SettingsError, biomedgpt_home, env_flag, env_folder, env_url
from biomedgpt_tools.resolvers.settings import ResolverSettings

BackendKind = Literal["in-process", "remote", "none"]
OnTooLong = Literal["error", "truncate"]
ON_TOO_LONG_CHOICES = ("error", "truncate")
# torch device strings the in-process model takes
_DEVICE_RE = re.compile(r"^(?:cpu|mps|(?:cuda|xpu)(?::[0-9]+)?)$")


def _server_url_from_env() -> str | None:
    return env_url("BIOMEDGPT_SERVER_URL", None)


@dataclass(frozen=True)
class ToolkitSettings:
    """Everything the services need to build their backend, resolvers and store."""

    model_path: Path | None = None
    # None: "remote" when server_url is set, else "in-process" when model_path is, else "none"
    backend: BackendKind | None = None
    server_url: str | None = field(default_factory=lambda: _server_url_from_env())
    server_concurrency: int = 16  # requests a remote backend keeps in flight for one batch
    device: str | None = None
    home: Path | None = None  # None: biomedgpt_home()
    chroma_url: str | None = None
    memory: bool = True
    max_new_tokens: int = 255
    protein_vectors: bool = True  # store each answered protein's embedding for similarity search
    # a protein past the 1022 residues ESM-2 reads: "truncate" keeps the first 1022 as the
    # released model did (and the answer says so); "error" refuses it
    on_too_long: OnTooLong = "truncate"
    # from the environment like everything else, so ToolkitSettings(...) honours BIOMEDGPT_OFFLINE
    resolver: ResolverSettings = field(default_factory=ResolverSettings.from_env)

    @classmethod
    def from_env(cls, **overrides: object) -> ToolkitSettings:
        """Settings from the environment; keyword arguments that are not None win."""
        values: dict[str, object] = {
            "model_path": env_folder("BIOMEDGPT_MODEL"),
            "device": _env_choice("BIOMEDGPT_DEVICE", _DEVICE_RE, "cpu, cuda, cuda:N or mps"),
            "home": biomedgpt_home(),
            "chroma_url": env_url("BIOMEDGPT_CHROMA_URL", None),
            "memory": env_flag("BIOMEDGPT_MEMORY", True),
            "on_too_long": _env_choice(
                "BIOMEDGPT_ON_TOO_LONG", re.compile("^(?:error|truncate)$"), "error or truncate"
            ),
            "resolver": ResolverSettings.from_env(),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values.get("model_path"), str):
            values["model_path"] = Path(values["model_path"]).expanduser()  # type: ignore[arg-type]
        if values.get("on_too_long") is None:
            values.pop("on_too_long", None)
        elif values["on_too_long"] not in ON_TOO_LONG_CHOICES:
            raise SettingsError(
                f"on_too_long must be 'error' or 'truncate', not {values['on_too_long']!r}"
            )
        return cls(**values)  # type: ignore[arg-type]

    def with_changes(self, **changes: object) -> ToolkitSettings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def backend_kind(self) -> BackendKind:
        if self.backend is not None:
            return self.backend
        if self.server_url:
            return "remote"
        return "in-process" if self.model_path is not None else "none"

    @property
    def store_path(self) -> Path:
        return (self.home if self.home is not None else biomedgpt_home()) / "annotations"


def _env_choice(name: str, allowed: re.Pattern[str], described: str) -> str | None:
    """A variable whose value must match `allowed` (case-insensitive); None when unset or empty."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    if not allowed.match(raw.lower()):
        raise SettingsError(
            f"{name}={raw!r} is not a value it takes: use {described} (or unset it)"
        )
    return raw.lower()

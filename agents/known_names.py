"""Molecule names the assistant recognises without a suffix guess: the bundled snapshot's."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def known_molecule_names() -> frozenset[str]:
    """Lower-cased names and synonyms of the resolvers' bundled molecules (empty if absent)."""
    try:
        text = (
            resources.files("biomedgpt_tools.resolvers")
            .joinpath("snapshot_data/molecules.json")
            .read_text()
        )
    except (FileNotFoundError, ModuleNotFoundError):
        return frozenset()
    names: set[str] = set()
    for molecule in json.loads(text):
        for name in [molecule.get("name"), *molecule.get("synonyms", [])]:
            if name and name.replace("-", "").replace(" ", "").isalpha() and len(name) >= 4:
                names.add(name.lower())
    return frozenset(names)

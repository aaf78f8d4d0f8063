"""The cache answers repeats without a request; offline mode answers locally or fails fast."""

from __future__ import annotations

import logging
import time

import pytest

from biomedgpt_tools.resolvers import (
    AmbiguousError,
    NotFoundError,
    ObsoleteError,
    OfflineError,
    Resolver,
    ResolverSettings,
    resolve_molecule,
    resolve_protein,
)
from biomedgpt_tools.resolvers.cache import CACHE_FILENAME


def test_repeated_query_is_answered_by_the_cache(make_resolver, resolver_server):
    resolver = make_resolver()
    first = resolver.molecule("aspirin")
    sent = len(resolver_server.requests)
    assert sent == 4
    again = make_resolver().molecule("  Aspirin ")  # another resolver, same cache file
    assert len(resolver_server.requests) == sent
    assert again.model_dump(exclude={"query"}) == first.model_dump(exclude={"query"})
    assert again.query == "  Aspirin "
    # the CID the name resolved to is cached too
    assert make_resolver().molecule("CID 2244").cid == 2244
    assert len(resolver_server.requests) == sent


def test_protein_cache_and_accession_alias(make_resolver, resolver_server):
    resolver = make_resolver()
    resolver.protein("TP53 human")
    sent = len(resolver_server.requests)
    assert resolver.protein("gene:TP53 organism:9606").accession == "P04637"
    assert resolver.protein("P04637").accession == "P04637"
    assert len(resolver_server.requests) == sent


def test_negative_results_are_cached_briefly(make_resolver, resolver_server):
    resolver = make_resolver(negative_ttl_s=0.5)
    for _ in range(3):
        with pytest.raises(NotFoundError):
            resolver.molecule("unobtainium-7")
    assert len(resolver_server.requests) == 1
    with pytest.raises(AmbiguousError) as caught:
        resolver.molecule("alanine")
    sent = len(resolver_server.requests)
    with pytest.raises(AmbiguousError) as cached:
        resolver.molecule("alanine")
    assert cached.value.candidates == caught.value.candidates
    assert len(resolver_server.requests) == sent
    time.sleep(0.6)  # past the negative TTL: asked again
    with pytest.raises(NotFoundError):
        resolver.molecule("unobtainium-7")
    assert len(resolver_server.requests) == sent + 1


def test_obsolete_answer_is_cached_with_replacements(make_resolver, resolver_server):
    demerged = next(
        p for p in resolver_server.entities.raw["inactive_proteins"] if p["reason"] == "DEMERGED"
    )
    resolver = make_resolver()
    with pytest.raises(ObsoleteError):
        resolver.protein(demerged["accession"])
    with pytest.raises(ObsoleteError) as cached:
        resolver.protein(demerged["accession"])
    assert cached.value.replacements == demerged["merge_demerge_to"]
    assert len(resolver_server.requests) == 1


def test_unavailable_is_never_cached(make_resolver, resolver_server):
    from biomedgpt_tools.testing.resolver_server import Fault

    resolver_server.inject("pubchem", Fault.status(503), Fault.status(503))
    with pytest.raises(Exception, match="could not answer"):
        make_resolver(max_retries=1).molecule("CID 2244", details=False)
    assert make_resolver().molecule("CID 2244", details=False).cid == 2244


def test_corrupted_cache_file_is_detected_and_rebuilt(
    make_resolver, resolver_server, tmp_path, caplog
):
    make_resolver().molecule("aspirin", details=False)
    cache_file = tmp_path / "cache" / CACHE_FILENAME
    assert cache_file.exists()
    for sidecar in cache_file.parent.glob(f"{CACHE_FILENAME}-*"):
        sidecar.unlink()
    cache_file.write_bytes(b"\x00garbage, as after a disk error\x00" * 100)
    resolver_server.clear_requests()
    record = make_resolver().molecule("aspirin", details=False)  # no crash: rebuilt, asked again
    assert record.cid == 2244
    assert len(resolver_server.requests) == 2
    assert "unreadable" in caplog.text
    assert list(cache_file.parent.glob(f"{CACHE_FILENAME}.corrupt-*"))
    resolver_server.clear_requests()
    make_resolver().molecule("aspirin", details=False)
    assert resolver_server.requests == []  # the rebuilt cache works


# --- offline ---------------------------------------------------------------------------------
@pytest.fixture
def offline_env(monkeypatch):
    # an address nothing answers on: offline mode must not even try it
    monkeypatch.setenv("BIOMEDGPT_PUBCHEM_URL", "http://192.0.2.1/rest/pug")
    monkeypatch.setenv("BIOMEDGPT_UNIPROT_URL", "http://192.0.2.1")
    monkeypatch.setenv("BIOMEDGPT_OFFLINE", "1")


@pytest.mark.parametrize(
    "query",
    [
        "aspirin",
        "CID 2244",
        "OC(=O)c1ccccc1OC(C)=O",
        "BSYNRYMUTXBXSQ-UHFFFAOYSA-N",
        "acetylsalicylic acid",
    ],
)
def test_offline_molecules_come_from_the_snapshot(offline_env, query):
    record = resolve_molecule(query)
    assert (record.cid, record.source) == (2244, "snapshot")
    assert record.smiles == "CC(=O)OC1=CC=CC=C1C(=O)O" and record.molecular_weight == pytest.approx(
        180.16
    )


@pytest.mark.parametrize(
    "query", ["P01308", "INS_HUMAN", "INS human", "gene:INS organism:9606", "HBB"]
)
def test_offline_proteins_come_from_the_snapshot(offline_env, query):
    record = resolve_protein(query)
    assert record.source == "snapshot" and record.sequence and record.length == len(record.sequence)


def test_offline_unknown_fails_fast_with_a_clear_message(offline_env):
    started = time.monotonic()
    with pytest.raises(OfflineError) as caught:
        resolve_molecule("unobtainium-7")
    with pytest.raises(OfflineError):
        resolve_protein("P04637")
    assert time.monotonic() - started < 2.5  # no network, no retries: loose for a busy machine
    assert caught.value.kind == "unavailable"
    assert "offline mode" in caught.value.message and "BIOMEDGPT_OFFLINE" in caught.value.message


def test_offline_flag_without_env(monkeypatch):
    monkeypatch.delenv("BIOMEDGPT_OFFLINE", raising=False)
    monkeypatch.setenv("BIOMEDGPT_PUBCHEM_URL", "http://192.0.2.1/rest/pug")
    assert resolve_molecule("caffeine", offline=True).cid == 2519
    with pytest.raises(OfflineError):
        resolve_molecule("unobtainium-7", offline=True)


def test_offline_answers_from_the_cache_what_the_snapshot_lacks(server_env, monkeypatch):
    online = resolve_protein("TP53 human")  # not in the snapshot (placeholder sequence upstream)
    assert online.source == "uniprot"
    monkeypatch.setenv("BIOMEDGPT_OFFLINE", "1")
    server_env.clear_requests()
    offline = resolve_protein("TP53 human")
    assert offline.accession == "P04637" and offline.source == "uniprot"
    assert server_env.requests == []


async def test_module_level_async_api_offline(offline_env):
    from biomedgpt_tools.resolvers import aresolve_molecule, aresolve_protein

    assert (await aresolve_molecule("caffeine")).cid == 2519
    assert (await aresolve_protein("P68871")).entry_name == "HBB_HUMAN"
    with pytest.raises(OfflineError):
        await aresolve_protein("P04637")


def test_offline_lookup_works_when_the_cache_folder_cannot_be_written(tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the cache's parent folder should be")
    settings = ResolverSettings(offline=True, cache_dir=blocker / "cache")
    with caplog.at_level(logging.WARNING), Resolver(settings) as resolver:
        assert resolver.molecule("aspirin").cid == 2244  # from the snapshot, no OSError
        assert resolver.protein("P01308").entry_name == "INS_HUMAN"
        with pytest.raises(OfflineError):
            resolver.molecule("unobtainium-7")
    cache_warnings = [r for r in caplog.records if "without caching" in r.getMessage()]
    assert len(cache_warnings) == 1  # logged once, not per lookup


def test_online_lookup_still_works_and_asks_again_without_a_cache(
    make_resolver, resolver_server, tmp_path
):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    resolver = make_resolver(cache_dir=blocker / "cache")
    assert resolver.molecule("CID 2244", details=False).cid == 2244
    assert resolver.molecule("CID 2244", details=False).cid == 2244
    assert len(resolver_server.requests) == 2  # nothing cached, nothing crashed

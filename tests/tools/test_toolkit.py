"""The toolkit: configuration from the environment, one lazily loaded model shared by all tools,
and async calls that leave the event loop free."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

from biomedgpt_tools.inference.backend import NoModelBackend
from biomedgpt_tools.inference.in_process import InProcessBackend
from biomedgpt_tools.model.requests import GenerationRequest, GenerationResult, ModelIdentity
from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit
from tests.local_services import make_toolkit


def test_from_env_with_nothing_configured(monkeypatch, tmp_path):
    for name in (
        "BIOMEDGPT_MODEL",
        "BIOMEDGPT_PUBCHEM_URL",
        "BIOMEDGPT_UNIPROT_URL",
        "BIOMEDGPT_OFFLINE",
        "BIOMEDGPT_CHROMA_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BIOMEDGPT_HOME", str(tmp_path / "home"))
    toolkit = BioMedGPTToolkit.from_env()
    assert isinstance(toolkit.backend, NoModelBackend)
    assert toolkit.settings.model_path is None
    assert toolkit.settings.store_path == tmp_path / "home" / "annotations"
    assert toolkit.resolvers.settings.pubchem_url == "https://pubchem.ncbi.nlm.nih.gov/rest/pug"
    assert [tool.name for tool in toolkit.get_tools()] == ["MoleculeQA", "ProteinQA", "BiomedQA"]
    assert not (tmp_path / "home").exists()  # nothing opened or written until a tool is used


def test_from_env_reads_model_resolvers_and_home(monkeypatch, tmp_path, tiny_model_dir):
    monkeypatch.setenv("BIOMEDGPT_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("BIOMEDGPT_PUBCHEM_URL", "http://127.0.0.1:9/pug")
    monkeypatch.setenv("BIOMEDGPT_UNIPROT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BIOMEDGPT_OFFLINE", "1")
    monkeypatch.setenv("BIOMEDGPT_HOME", str(tmp_path))
    toolkit = BioMedGPTToolkit.from_env()
    assert isinstance(toolkit.backend, InProcessBackend)
    assert toolkit.backend.model_path == tiny_model_dir
    assert not toolkit.backend.loaded  # lazily: nothing loaded yet
    assert toolkit.resolvers.settings.offline
    assert toolkit.resolvers.settings.pubchem_url == "http://127.0.0.1:9/pug"
    assert toolkit.settings.store_path == tmp_path / "annotations"
    # keyword overrides win over the environment
    assert BioMedGPTToolkit.from_env(backend="none").backend.kind == "none"


def test_offline_mode_answers_from_the_bundled_snapshot(monkeypatch, tiny_model_dir):
    monkeypatch.setenv("BIOMEDGPT_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("BIOMEDGPT_OFFLINE", "1")
    monkeypatch.setenv("BIOMEDGPT_PUBCHEM_URL", "http://127.0.0.1:9/pug")  # nothing listens
    toolkit = BioMedGPTToolkit.from_env()
    try:
        message = toolkit.get_tools()[0].invoke(
            {
                "type": "tool_call",
                "id": "c",
                "name": "MoleculeQA",
                "args": {"molecule": "ibuprofen"},
            }
        )
    finally:
        toolkit.close()
    assert message.status == "success", message.content
    assert message.artifact.record.source == "snapshot" and message.artifact.record.cid == 3672
    assert message.artifact.answered_by == "model"


def test_one_model_loaded_once_and_shared_by_all_tools(resolver_env, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("BIOMEDGPT_MODEL", str(tiny_model_dir))
    toolkit = make_toolkit(None, model_path=tiny_model_dir)
    loads = []
    original = InProcessBackend.model

    def counting_model(self):
        if self._model is None:
            loads.append(threading.get_ident())
        return original(self)

    monkeypatch.setattr(InProcessBackend, "model", counting_model)
    try:
        tools = toolkit.get_tools()
        assert all(tool.services.backend is toolkit.backend for tool in tools)
        assert not toolkit.backend.loaded
        calls = [
            ("MoleculeQA", {"molecule": "aspirin"}),
            ("ProteinQA", {"protein": "P04637"}),
            ("BiomedQA", {"question": "Why?"}),
        ]
        for tool, (name, args) in zip(tools, calls, strict=True):
            message = tool.invoke({"type": "tool_call", "id": name, "name": name, "args": args})
            assert message.artifact.answered_by == "model"
        assert toolkit.backend.loaded
        assert len(loads) == 1
        assert toolkit.backend.answer_calls == 3
        # the chat model built from the toolkit uses the same backend, not a second copy
        assert toolkit.chat_model().backend is toolkit.backend
    finally:
        toolkit.close()


class SlowBackend(NoModelBackend):
    """A model that takes `seconds` per answer while holding its thread (as real generation does)."""

    kind = "slow-test"

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        self.threads: list[int] = []

    @property
    def configured(self) -> bool:
        return True

    def identity(self) -> ModelIdentity:
        return ModelIdentity("slow-test-model", "r1")

    def answer(self, questions: Sequence[GenerationRequest]) -> list[GenerationResult]:
        self.threads.append(threading.get_ident())
        time.sleep(self.seconds)
        return [
            GenerationResult(
                prompt=q.question,
                text="slow answer",
                token_ids=[],
                finished=True,
                identity=self.identity(),
                seconds=self.seconds,
            )
            for q in questions
        ]

    def render_prompt(self, question: GenerationRequest) -> str:
        return question.question


async def test_async_tools_do_not_block_the_event_loop(resolver_env):
    from biomedgpt_tools.services.settings import ToolkitSettings
    from tests.local_services import local_resolver_settings

    backend = SlowBackend(seconds=0.6)
    toolkit = BioMedGPTToolkit(
        settings=ToolkitSettings.from_env(resolver=local_resolver_settings()), backend=backend
    )
    molecule_qa, protein_qa, biomed_qa = toolkit.get_tools()
    ticks = 0
    stop = asyncio.Event()

    async def ticker():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    try:
        started = time.perf_counter()
        results = await asyncio.gather(
            molecule_qa.ainvoke(
                {
                    "type": "tool_call",
                    "id": "a",
                    "name": "MoleculeQA",
                    "args": {"molecule": "aspirin"},
                }
            ),
            protein_qa.ainvoke(
                {"type": "tool_call", "id": "b", "name": "ProteinQA", "args": {"protein": "P04637"}}
            ),
            biomed_qa.ainvoke(
                {"type": "tool_call", "id": "c", "name": "BiomedQA", "args": {"question": "Why?"}}
            ),
        )
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        await ticking
        toolkit.close()
    assert [r.artifact.answer for r in results] == ["slow answer"] * 3
    assert threading.get_ident() not in backend.threads  # the model ran off the event loop's thread
    # 3 x 0.6 s of blocking model time; the loop kept ticking throughout (a blocked loop ticks ~0 times)
    assert elapsed >= 0.6
    assert ticks >= 0.25 * (elapsed / 0.01)


def test_tools_built_on_their_own_share_one_toolkit(monkeypatch, tmp_path):
    from biomedgpt_tools.tools import BiomedQA, MoleculeQA, ProteinQA

    monkeypatch.setenv("BIOMEDGPT_MODEL", str(tmp_path / "model"))
    molecule_qa, protein_qa, biomed_qa = MoleculeQA(), ProteinQA(), BiomedQA()
    assert molecule_qa.services is protein_qa.services is biomed_qa.services
    assert molecule_qa.model_path == str(tmp_path / "model")
    monkeypatch.setenv("BIOMEDGPT_MODEL", str(tmp_path / "other-model"))
    assert MoleculeQA().services is not molecule_qa.services  # other settings, other services


def test_a_tool_takes_a_toolkits_services(no_model_toolkit):
    """`MoleculeQA(services=...)`, and the older `MoleculeQA(toolkit=...)`: the toolkit's services."""
    from biomedgpt_tools.tools import MoleculeQA

    assert MoleculeQA(services=no_model_toolkit.services).services is no_model_toolkit.services
    assert MoleculeQA(toolkit=no_model_toolkit).services is no_model_toolkit.services
    assert all(tool.services is no_model_toolkit.services for tool in no_model_toolkit.get_tools())


class _ServerGoneCollection:
    """Stands in for the annotations collection of a Chroma server that stopped after opening."""

    def __getattr__(self, name):
        def gone(*args, **kwargs):
            raise ConnectionError("[Errno 111] Connection refused")

        return gone


def test_a_store_failing_after_open_still_lets_the_tool_answer_with_notes(
    resolver_env, tiny_model, tmp_path
):
    from biomedgpt_tools.store.store import AnnotationStore
    from tests.store.hashing_embedder import HashingTextEmbedder

    store = AnnotationStore.open(tmp_path / "store", embedder=HashingTextEmbedder())
    store._annotations = _ServerGoneCollection()
    toolkit = make_toolkit(tiny_model, store=store)
    try:
        biomed_qa = toolkit.get_tools()[2]
        message = biomed_qa.invoke(
            {"type": "tool_call", "id": "c", "name": "BiomedQA", "args": {"question": "Why?"}}
        )
    finally:
        toolkit.close()
        store.close()
    assert message.status == "success", message.content
    assert message.artifact.answered_by == "model" and message.artifact.annotation_id is None
    assert "memory lookup failed" in message.content
    assert "the answer was not saved to memory" in message.content
    assert "ConnectionError: [Errno 111] Connection refused" in message.content


def test_settings_built_directly_read_the_resolver_environment(monkeypatch, tmp_path):
    from biomedgpt_tools.services.settings import ToolkitSettings

    monkeypatch.setenv("BIOMEDGPT_OFFLINE", "1")
    monkeypatch.setenv("BIOMEDGPT_PUBCHEM_URL", "http://127.0.0.1:9/pug")
    monkeypatch.setenv("BIOMEDGPT_UNIPROT_URL", "http://127.0.0.1:9/uniprot")
    monkeypatch.setenv("BIOMEDGPT_CACHE_DIR", str(tmp_path / "cache"))
    resolver = ToolkitSettings(home=tmp_path).resolver
    assert resolver.offline
    assert resolver.pubchem_url == "http://127.0.0.1:9/pug"
    assert resolver.uniprot_url == "http://127.0.0.1:9/uniprot"
    assert resolver.resolved_cache_dir == tmp_path / "cache"


def test_a_molecule_described_from_its_smiles_is_marked_local(no_model_toolkit):
    from biomedgpt_tools.resolvers.records import MoleculeRecord

    record, notes = no_model_toolkit.services.resolve_molecule(
        "OCCCCCCCCCCc1ccccc1"
    )  # not in PubChem
    assert record.source == "local" and record.cid is None
    assert record.inchikey and record.formula == "C16H26O"
    assert "PubChem has no compound with this structure" in notes[0]
    assert MoleculeRecord.model_validate_json(record.model_dump_json()).source == "local"
    from biomedgpt_tools.tools.molecule_qa import describe_molecule

    line = describe_molecule(record, "OCCCCCCCCCCc1ccccc1")
    assert "identifiers computed with RDKit from the SMILES given" in line and "via" not in line

"""Settings chosen per run as JSON, the way the LangGraph server and Studio pass them."""

from __future__ import annotations

from langgraph.checkpoint.memory import InMemorySaver

from agents.context import AssistantContext, toolkit_for_run
from agents.graph import build_graph

QUESTION = {
    "question": "Describe the molecule naproxen."
}  # on the test server, not in the snapshot


def pubchem_labels(result) -> list[str]:
    return [s["label"] for s in result["sources"] if s["type"] == "pubchem"]


def test_offline_and_model_come_from_the_runs_context_or_configurable(resolver_env):
    graph = build_graph().compile(checkpointer=InMemorySaver())
    # offline first: an online answer is cached, and offline mode answers from the cache too
    offline = graph.invoke(
        QUESTION, {"configurable": {"thread_id": "b"}}, context={"offline": True}
    )
    assert offline["sources"] == [] and "could not answer" in offline["answer"]
    online = graph.invoke(QUESTION, {"configurable": {"thread_id": "a"}})
    assert pubchem_labels(online) == ["PubChem CID 156391"]
    legacy = graph.invoke(
        {"question": "Describe aspirin"}, {"configurable": {"thread_id": "c", "offline": True}}
    )
    assert pubchem_labels(legacy) == ["PubChem CID 2244 (bundled offline snapshot)"]


def test_a_runs_toolkit_is_built_once_per_settings(resolver_env, tiny_model_dir):
    with_model = toolkit_for_run(str(tiny_model_dir), None)
    assert toolkit_for_run(str(tiny_model_dir), None) is with_model
    assert with_model.backend.configured and with_model.settings.model_path == tiny_model_dir
    without = AssistantContext(model="none").resolved_toolkit()
    assert not without.backend.configured and without is not with_model
    assert AssistantContext(offline=True).resolved_toolkit().settings.resolver.offline is True

"""The SDK's own client, in process: tools and schemas, each tool's answers, progress, resources."""

from __future__ import annotations

import json
import time

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from biomedgpt_tools.mcp_server import TOOL_NAMES, build_server
from biomedgpt_tools.mcp_server.outputs import depiction_uri
from biomedgpt_tools.tools.schemas import BiomedQAInput, MoleculeQAInput, ProteinQAInput
from tests.mcp_server.conftest import check_structured, output_schemas, text_of


async def test_lists_six_short_named_tools_with_the_langchain_descriptions(server):
    async with Client(server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert sorted(tools) == sorted(TOOL_NAMES)
    assert all(len(name) < 64 for name in tools)
    molecule = tools["molecule_qa"].input_schema
    assert molecule["required"] == ["molecule"]
    assert molecule["properties"]["molecule"]["description"] == (
        MoleculeQAInput.model_fields["molecule"].description
    )
    assert molecule["properties"]["molecule"]["maxLength"] == 4000
    assert molecule["properties"]["fresh"]["type"] == "boolean"
    protein = tools["protein_qa"].input_schema["properties"]["protein"]
    assert protein["description"] == ProteinQAInput.model_fields["protein"].description
    biomed = tools["biomed_qa"].input_schema["properties"]
    assert biomed["question"]["description"] == (
        BiomedQAInput.model_fields["question"]
        .description.replace("MoleculeQA", "molecule_qa")
        .replace("ProteinQA", "protein_qa")
    )
    assert biomed["options"]["anyOf"][0]["type"] == "array"
    assert "ctx" not in molecule["properties"]  # the SDK's context is not an argument
    for name, tool in tools.items():
        assert tool.description and tool.output_schema["type"] == "object", name
    assert {"answer", "answered_by", "entity", "sources"} <= set(
        tools["molecule_qa"].output_schema["properties"]
    )


async def test_subset_of_tools(toolkit):
    server = build_server(
        toolkit,
        tools=["resolve_molecule", "search_memory", "molecule_qa"],
        exclude_tools=["molecule_qa"],
    )
    async with Client(server) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
    assert names == ["resolve_molecule", "search_memory"]


async def test_each_tool_with_the_tiny_model_then_memory_and_resources(server, toolkit):
    async with Client(server) as client:
        schemas = await output_schemas(client)
        progress: list[tuple[float, str]] = []

        async def on_progress(value, total, message):
            progress.append((value, message))

        answered = await client.call_tool(
            "molecule_qa", {"molecule": "aspirin"}, progress_callback=on_progress
        )
        molecule = check_structured(answered, schemas["molecule_qa"])
        assert molecule["answered_by"] == "model" and molecule["answer"]
        assert molecule["model_id"] == toolkit.backend.identity().model_id
        assert molecule["entity"]["cid"] == 2244
        assert molecule["entity"]["inchikey"] == "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"
        assert {source["kind"] for source in molecule["sources"]} == {"database", "model"}
        assert text_of(answered).startswith("BioMedGPT answer (")
        assert "CID 2244" in text_of(answered)
        # progress: numbered, increasing, and several while the model generated
        values = [value for value, _ in progress]
        assert values == sorted(set(values)) and len(values) >= 3
        assert sum(message.startswith("generating") for _, message in progress) >= 2

        again = check_structured(
            await client.call_tool("molecule_qa", {"molecule": "CID 2244"}), schemas["molecule_qa"]
        )
        assert again["answered_by"] == "memory" and again["answer"] == molecule["answer"]
        assert again["annotation_id"] == molecule["annotation_id"]

        protein = check_structured(
            await client.call_tool("protein_qa", {"protein": "P04637", "question": "Where is it?"}),
            schemas["protein_qa"],
        )
        assert protein["answered_by"] == "model"
        assert protein["entity"]["accession"] == "P04637" and protein["entity"]["sequence"] is None

        choice = check_structured(
            await client.call_tool(
                "biomed_qa",
                {
                    "question": "Which enzyme does aspirin inhibit?",
                    "options": ["COX-1", "lipase"],
                    "context": "Aspirin irreversibly acetylates cyclooxygenase.",
                },
            ),
            schemas["biomed_qa"],
        )
        assert choice["entity"] is None and choice["options"] == ["COX-1", "lipase"]

        resolved = check_structured(
            await client.call_tool("resolve_molecule", {"molecule": "caffeine"}),
            schemas["resolve_molecule"],
        )
        assert resolved["status"] == "resolved" and resolved["molecule"]["cid"] == 2519
        assert resolved["description"].startswith("BEGIN QUOTED DATA")
        ambiguous = check_structured(
            await client.call_tool("resolve_molecule", {"molecule": "alanine"}),
            schemas["resolve_molecule"],
        )
        assert ambiguous["status"] == "ambiguous"
        assert {c["cid"] for c in ambiguous["candidates"]} >= {5950, 602}

        merged = check_structured(
            await client.call_tool("resolve_protein", {"protein": "Q15086"}),  # secondary
            schemas["resolve_protein"],
        )
        assert merged["protein"]["accession"] == "P04637"
        assert merged["protein"]["requested_accession"] == "Q15086"
        assert any("merged into P04637" in note for note in merged["notes"])
        assert merged["protein"]["sequence"] and merged["protein"]["length"] == len(
            merged["protein"]["sequence"]
        )

        by_entity = check_structured(
            await client.call_tool("search_memory", {"molecule": "aspirin"}),
            schemas["search_memory"],
        )
        assert [hit["annotation_id"] for hit in by_entity["hits"]] == [molecule["annotation_id"]]
        by_meaning = check_structured(
            await client.call_tool(
                "search_memory", {"query": "tumour protein location", "limit": 3}
            ),
            schemas["search_memory"],
        )
        assert len(by_meaning["hits"]) == 3
        assert all(hit["distance"] is not None for hit in by_meaning["hits"])

        listed = (await client.list_resources()).resources
        uris = {str(resource.uri) for resource in listed}
        assert molecule["annotation_uri"] in uris and protein["annotation_uri"] in uris
        stored = json.loads(
            (await client.read_resource(molecule["annotation_uri"])).contents[0].text
        )
        assert stored["answer"] == molecule["answer"] and stored["model_id"] == molecule["model_id"]
        templates = {
            t.uri_template for t in (await client.list_resource_templates()).resource_templates
        }
        assert templates == {
            "memory://annotations/{annotation_id}",
            "molecule://depiction/{molecule}",
        }
        picture = (await client.read_resource(molecule["entity"]["depiction_uri"])).contents[0]
        assert picture.mime_type == "image/svg+xml" and picture.text.lstrip().startswith("<?xml")
        assert "<svg" in picture.text
        drawn = (await client.read_resource(depiction_uri("F/C=C/F"))).contents[0]  # new SMILES
        assert "<svg" in drawn.text and "F/C=C/F" not in drawn.text
        with pytest.raises(MCPError, match="not a valid SMILES"):
            await client.read_resource(depiction_uri("C1CC(("))
        with pytest.raises(MCPError, match="no stored answer"):
            await client.read_resource("memory://annotations/ann-0000")


async def test_offline_snapshot_without_a_model(resolver_env, monkeypatch, toolkit_factory):
    monkeypatch.setenv("BIOMEDGPT_OFFLINE", "1")
    toolkit = toolkit_factory(None)
    requests_before = len(resolver_env.requests)
    try:
        async with Client(build_server(toolkit)) as client:
            schemas = await output_schemas(client)
            result = await client.call_tool("molecule_qa", {"molecule": "aspirin"})
            answer = check_structured(result, schemas["molecule_qa"])
            assert answer["answered_by"] == "record" and answer["answer"] is None
            assert answer["backend"] == "none" and answer["entity"]["source"] == "snapshot"
            assert text_of(result).startswith("No model answered: no BioMedGPT model is configured")
            protein = check_structured(
                await client.call_tool("resolve_protein", {"protein": "P69905"}),
                schemas["resolve_protein"],
            )
            assert protein["protein"]["source"] == "snapshot"
            assert protein["protein"]["accession"] == "P69905"
            no_answer = await client.call_tool("biomed_qa", {"question": "What is COPD?"})
            assert no_answer.is_error and "BIOMEDGPT_MODEL" in text_of(no_answer)
        assert len(resolver_env.requests) == requests_before  # offline: no lookup was sent
    finally:
        toolkit.close()


async def test_progress_while_the_model_loads_and_a_memory_hit_loads_nothing(
    resolver_env, tiny_model_dir, monkeypatch
):
    from biomedgpt_tools.model.api import BioMedGPT
    from tests.local_services import make_toolkit

    load = BioMedGPT.from_pretrained.__func__

    def slow_load(cls, *args, **kwargs):  # a real load, made long enough to be reported
        time.sleep(0.5)
        return load(cls, *args, **kwargs)

    monkeypatch.setattr(BioMedGPT, "from_pretrained", classmethod(slow_load))
    messages: list[str] = []

    async def on_progress(value, total, message):
        messages.append(message)

    question = {"question": "What is COPD?"}
    first = make_toolkit(None, model_path=tiny_model_dir)  # loads on the first question
    try:
        async with Client(build_server(first)) as client:
            result = await client.call_tool("biomed_qa", question, progress_callback=on_progress)
            assert not result.is_error and result.structured_content["answered_by"] == "model"
        assert first.backend.loaded
    finally:
        first.close()
    assert messages[0] == "biomed_qa: checking memory"
    assert messages[1].startswith("loading the BioMedGPT model")
    assert messages[2].startswith("model loaded in")
    assert messages[3].startswith("generating the answer")
    assert messages[-1] == "biomed_qa: answered by model"

    messages.clear()
    fresh_server = make_toolkit(None, model_path=tiny_model_dir)  # same home, same store
    try:
        async with Client(build_server(fresh_server)) as client:
            result = await client.call_tool("biomed_qa", question, progress_callback=on_progress)
            assert result.structured_content["answered_by"] == "memory"
        assert not fresh_server.backend.loaded  # recalled without loading the weights
        assert not any("load" in message for message in messages)
    finally:
        fresh_server.close()


async def test_memory_off_is_said_plainly(resolver_env):
    from tests.local_services import make_toolkit

    toolkit = make_toolkit(None, memory=False)
    try:
        async with Client(build_server(toolkit)) as client:
            result = await client.call_tool("search_memory", {"query": "aspirin"})
            assert result.is_error and "memory is off (BIOMEDGPT_MEMORY=0)" in text_of(result)
            assert (await client.list_resources()).resources == []
            answer = await client.call_tool("molecule_qa", {"molecule": "aspirin"})
            assert not answer.is_error and answer.structured_content["annotation_uri"] is None
    finally:
        toolkit.close()

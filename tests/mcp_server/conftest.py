"""The MCP server on the shared test toolkit; tests connect with the SDK's in-process client
(`async with Client(server)` inside the test: its task group must not span fixture tasks)."""

from __future__ import annotations

import jsonschema
import pytest

from biomedgpt_tools.mcp_server import build_server


@pytest.fixture
def server(toolkit):
    """The MCP server on the tiny model, the local resolver server and a fresh store."""
    return build_server(toolkit)


@pytest.fixture
def no_model_server(no_model_toolkit):
    return build_server(no_model_toolkit)


async def output_schemas(client) -> dict[str, dict]:
    return {tool.name: tool.output_schema for tool in (await client.list_tools()).tools}


def text_of(result) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


def check_structured(result, schema: dict) -> dict:
    """A successful result whose structured content validates against the tool's output schema."""
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    jsonschema.validate(result.structured_content, schema)
    return result.structured_content

"""The names of the MCP tools, importable without the `mcp` SDK, so `biomedgpt mcp --help`
and `--tools` checking stay fast and work where the extra is not installed."""

TOOL_NAMES = (
    "molecule_qa",
    "protein_qa",
    "biomed_qa",
    "resolve_molecule",
    "resolve_protein",
    "search_memory",
)

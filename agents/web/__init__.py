"""The research assistant in the browser: `python -m agents web` (see docs/agents.md)."""

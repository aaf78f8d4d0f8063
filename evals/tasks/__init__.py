"""The paper's tasks: items, prompts, the model adapter, the resumable runner and its run directory."""

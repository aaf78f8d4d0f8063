"""A module that fails while it is imported (for test_chat_models.py)."""

raise RuntimeError("this module is broken on purpose")

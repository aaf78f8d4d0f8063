"""Expected failures of a turn: the CLI prints them as one line; anything else is a bug."""

from __future__ import annotations


class InvalidQuestionError(ValueError):
    """The user's input cannot start or continue a turn (empty question, nothing to resume)."""

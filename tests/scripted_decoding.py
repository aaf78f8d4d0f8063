"""Make a real model's generated tokens read as a chosen text: the markers a checkpoint may write.

Generation stays real (the tiny model's tokens, the streaming thread, the server's engine);
only the text the new tokens decode to is scripted, token by token, so a test can have the
model open with `Assistant:` again and, having answered, begin a turn of its own, as a real
checkpoint sometimes does. The streamed deltas must then join to the answer alone.
"""

from __future__ import annotations

# one piece per generated token; a marker split across tokens both times
TWO_MORE_MARKERS = (" Assis", "tant: It", " is", " an acid.", " ##", "# Assistant", ": No", " more")
ANSWER_OF_TWO_MORE_MARKERS = "It is an acid."


def script_decoding(monkeypatch, biomedgpt, pieces=TWO_MORE_MARKERS) -> None:
    """From now on (this test), `biomedgpt`'s new tokens decode to `pieces`, one per token.

    No token is then a byte piece whose text waits for the next one (the pieces are whole
    characters), so every token releases its piece: the stream is as fine-grained as it gets.
    """

    def decode(token_ids) -> str:
        return "".join(pieces[: len(list(token_ids))])

    monkeypatch.setattr(biomedgpt.segments, "decode", decode)
    monkeypatch.setattr(biomedgpt.segments, "_byte_fallback_ids", frozenset(), raising=False)

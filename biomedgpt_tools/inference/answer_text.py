"""From the model's raw text, as it grows, to pieces of the answer text the callers keep.

Shared by the in-process backend and the model server's streaming responses, so both stream
exactly the text their whole answer would have.
"""

from __future__ import annotations

from biomedgpt_tools.inference.backend import TextSink

ANSWER_MARKER = "Assistant:"  # model/prompt.py: the answer is the text after the last one


class AnswerTextFollower:
    """Passes on, piece by piece, the text `answer_after_last_assistant` will keep.

    The model's raw text becomes the answer by taking what follows the last `Assistant:`
    and stripping whitespace. While generating, that is known only provisionally, so this
    holds back trailing whitespace and a tail that could still grow into the marker. A
    marker that does complete (the model wrote a further turn) replaces the answer: the
    sink gets `restart=True`. `finish` reconciles with the final text, so what the sink
    received always joins to exactly that text.
    """

    def __init__(self, sink: TextSink):
        self._sink = sink
        self._raw = ""
        self._sent = ""

    def feed(self, piece: str) -> None:
        self._raw += piece
        tail = self._raw.rsplit(ANSWER_MARKER, 1)[-1]
        for size in range(min(len(ANSWER_MARKER) - 1, len(tail)), 0, -1):
            if tail.endswith(ANSWER_MARKER[:size]):  # may become the marker
                tail = tail[:-size]
                break
        self._release(tail.strip())

    def finish(self, text: str) -> None:
        self._release(text)

    def _release(self, text: str) -> None:
        if text.startswith(self._sent):
            if len(text) > len(self._sent):
                self._sink(text[len(self._sent) :], False)
        else:
            self._sink(text, True)
        self._sent = text

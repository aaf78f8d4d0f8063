"""The answer in the model's generated text, cut out once, while it is generated.

The model writes its answer after the prompt's closing `### Assistant: `. Sometimes it opens
by repeating the marker, or, having answered, writes a further turn of its own
(`### Human: ...`, `### Assistant: ...`). `cut_answer` keeps the answer proper; `AnswerCutter`
does the same piece by piece and passes on only text that belongs to the final answer, so the
pieces it releases join to exactly `cut_answer` of the whole text and nothing released is
ever taken back. Every path (batched `generate`, `stream`, the model server) cuts here.

The rule, and its trade-off against the reference: the reference keeps the text after the
*last* `Assistant:` of the output. Streaming that rule would mean holding every piece back
until generation ends, since any later marker would replace what was shown. Here markers
before the answer's first character are skipped (the model re-opening its turn, which the
reference skips too), and a turn marker after answer text ends the answer: what the model
writes after it answers a question nobody asked. The two rules agree whenever the model
writes no second turn after answering; when it does, the reference returns the second
answer and this the first. While generating, the cutter holds back trailing whitespace (the
answer is stripped) and a tail that could still grow into a marker (`#`, `### Hu`, `Assist`,
...): a few characters, released as soon as the next piece shows they are answer text.
"""

from __future__ import annotations

import logging
import re

from .prompt import ASSISTANT_ROLE, HUMAN_ROLE, SEPARATOR

ANSWER_MARKER = f"{ASSISTANT_ROLE}:"  # the answer follows it; the prompt ends with it

_SEPARATOR = re.escape(SEPARATOR)
_ASSISTANT = re.escape(ANSWER_MARKER)
_HUMAN = re.escape(f"{HUMAN_ROLE}:")
# a marker before any answer text: the model opening its turn again
_OPENING = re.compile(rf"\s*(?:{_SEPARATOR}\s*)?{_ASSISTANT}")
# a marker after answer text: the model beginning another turn, which ends the answer
_NEXT_TURN = re.compile(rf"{_SEPARATOR}\s*{_HUMAN}|(?:{_SEPARATOR}\s*)?{_ASSISTANT}")
# a separator at the end that may still grow into `### Human:` or `### Assistant:`
_SEPARATOR_AT_END = re.compile(rf"{_SEPARATOR}\s*([A-Za-z]*)\Z")
_log = logging.getLogger(__name__)


def cut_answer(text: str) -> str:
    """The answer in the model's decoded new tokens: after opening markers, before a next turn, stripped."""
    start, end = _answer_span(text)
    return text[start:end].strip()


def _answer_span(text: str) -> tuple[int, int | None]:
    """Where the answer starts, and where a next turn ends it (None: no next turn yet)."""
    start = 0
    while (opening := _OPENING.match(text, start)) is not None:
        start = opening.end()
    next_turn = _NEXT_TURN.search(text, start)
    return start, next_turn.start() if next_turn else None


def _may_become_marker_from(text: str) -> int:
    """Where the tail that could still grow into a marker begins (`len(text)`: no such tail)."""
    start = len(text)
    for size in range(min(len(ANSWER_MARKER) - 1, len(text)), 0, -1):
        if text.endswith(ANSWER_MARKER[:size]):  # "A", "As", ..., "Assistant"
            start = len(text) - size
            break
    for size in (2, 1):  # "##", "#": the start of a separator
        if text.endswith(SEPARATOR[:size]):
            start = min(start, len(text) - size)
            break
    separator = _SEPARATOR_AT_END.search(text)  # "###", "### ", "### Hum", "###Assistant"
    if separator is not None and any(
        role.startswith(separator.group(1)) for role in (HUMAN_ROLE, ASSISTANT_ROLE)
    ):
        start = min(start, separator.start())
    return start


class AnswerCutter:
    """Feed it the decoded text as it grows; it returns the new answer text each piece makes certain.

    `feed` and `finish` return deltas (often ''); joined they are `cut_answer` of everything
    fed, however the text was split. `text` is the answer released so far (all of it after
    `finish`).
    """

    def __init__(self):
        self._raw = ""
        self._ended = False  # a next-turn marker was seen: the answer is complete
        self.text = ""

    def feed(self, piece: str) -> str:
        if self._ended or not piece:
            return ""
        self._raw += piece
        if _answer_span(self._raw)[1] is not None:
            self._ended = True
            return self._release(cut_answer(self._raw))
        return self._release(cut_answer(self._raw[: _may_become_marker_from(self._raw)]))

    def finish(self) -> str:
        """The rest of the answer once generation has ended (nothing can grow any more)."""
        return self._release(cut_answer(self._raw))

    def _release(self, answer: str) -> str:
        # never fails: what is released was certain (see the module docstring), tests try
        # every split of texts with markers
        assert answer.startswith(self.text), (answer, self.text)
        delta, self.text = answer[len(self.text) :], answer
        return delta


def missing_tail(streamed: str, final: str) -> str:
    """What a stream that sent `streamed` still owes so that it ends on `final`, the answer cut
    from the whole decoded text (the truth: results and memory use it).

    Streams pass on text only while decoding the tokens so far extends what was sent; a
    tokenizer that rewrites earlier text (spacing clean-up) would otherwise end the stream, and
    the answer, early. When `final` does not extend `streamed` nothing can be sent without
    taking text back: that is logged, and the caller still returns `final`.
    """
    if final.startswith(streamed):
        return final[len(streamed) :]
    _log.warning(
        "the streamed answer (%d characters) is not a prefix of the final answer (%d): "
        "decoding rewrote text already sent; the final answer is returned",
        len(streamed),
        len(final),
    )
    return ""

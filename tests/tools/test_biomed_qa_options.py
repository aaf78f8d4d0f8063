"""Reading which option a multiple-choice answer chose: letters only where they cannot be words."""

from __future__ import annotations

import pytest

from biomedgpt_tools.tools.biomed_qa import chosen_option

ENZYMES = ["lipoxygenase", "cyclooxygenase", "thromboxane synthase", "phospholipase A2"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the article "A" is not option A: the option text decides
        ("A key target of aspirin is cyclooxygenase.", 1),
        ("A lipid-derived enzyme, lipoxygenase, is not inhibited.", 0),
        ("a key target is cyclooxygenase", 1),
        # explicit answers
        ("Answer: B", 1),
        ("answer: (C)", 2),
        ("The answer is D.", 3),
        ("The answer is (B) cyclooxygenase", 1),
        ("Answer: A key enzyme", None),  # "A key": an article again, and no option named
        ("Cyclooxygenase is blocked. Answer: B", 1),
        # the whole reply, or a reply opening with the letter
        ("B", 1),
        (" C ", 2),
        ("B.", 1),
        ("C) thromboxane synthase", 2),
        ("(D) phospholipase A2", 3),
        ("A. lipoxygenase", 0),
        # one lone bracketed letter anywhere
        ("It blocks the enzyme in option (B) irreversibly.", 1),
        ("Either (A) or (B) could be argued.", None),
        # letters beyond the options are not choices
        ("E", None),
        ("Answer: E", None),
        # option text: whole words, one option only
        ("Aspirin acetylates cyclooxygenase irreversibly.", 1),
        ("Both lipoxygenase and cyclooxygenase make eicosanoids.", None),
        ("It is a synthase of some kind.", None),
        ("Nothing here names an enzyme.", None),
        ("", None),
    ],
)
def test_chosen_option(text, expected):
    assert chosen_option(text, ENZYMES) == expected


def test_an_option_inside_a_longer_named_option_does_not_count_twice():
    options = ["aspirin", "aspirin and caffeine", "ibuprofen"]
    assert chosen_option("The combination aspirin and caffeine works best.", options) == 1
    assert chosen_option("Aspirin alone.", options) == 0


def test_option_text_is_matched_as_words_not_inside_other_words():
    assert chosen_option("It is an oxygenase.", ["oxygenase", "kinase"]) == 0
    assert chosen_option("It is a cyclooxygenase.", ["oxygenase", "kinase"]) is None

"""Prompt strings and segment token ids, against the spec and against SentencePiece itself."""

from __future__ import annotations

import json

import pytest
import sentencepiece
from transformers import LlamaTokenizer

from biomedgpt_tools.model.prompt import (
    SYSTEM_TEXT,
    SYSTEM_TEXT_BIOLOGY,
    Conversation,
    Molecule,
    Protein,
    SegmentEncoder,
    Turn,
    load_text_tokenizer,
    render_prompt,
    split_prompt,
)

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
SYSTEM = (
    "You are working as an excellent assistant in chemistry and molecule discovery. Below a human expert "
    "gives the representation of a molecule or a protein. Answer questions about it. "
)


def test_default_system_text_is_the_one_used_with_the_released_weights():
    assert SYSTEM_TEXT == SYSTEM
    assert SYSTEM_TEXT_BIOLOGY == (
        "You are working as an excellent assistant in biology. Below a human gives the representation "
        "of a molecule or a protein. Answer some questions about it. "
    )


def test_molecule_prompt():
    conversation = Conversation([Turn("Please describe the molecule.", [Molecule(ASPIRIN)])])
    assert render_prompt(conversation) == (
        SYSTEM
        + "### Human: <molecule><moleculeHere></molecule> Please describe the molecule. ### Assistant: "
    )


def test_protein_prompt_with_the_second_system_text():
    conversation = Conversation(
        [Turn("What is its function?", [Protein("MKTAYIAK")])], system=SYSTEM_TEXT_BIOLOGY
    )
    assert render_prompt(conversation) == (
        SYSTEM_TEXT_BIOLOGY
        + "### Human: <protein><proteinHere></protein> What is its function? ### Assistant: "
    )


def test_molecule_and_protein_each_open_a_human_message():
    conversation = Conversation(
        [Turn("Does this molecule bind to this protein?", [Molecule(ASPIRIN), Protein("MKTAYIAK")])]
    )
    assert render_prompt(conversation) == (
        SYSTEM
        + "### Human: <molecule><moleculeHere></molecule> ### Human: <protein><proteinHere></protein> "
        "Does this molecule bind to this protein? ### Assistant: "
    )


def test_two_turn_conversation():
    conversation = Conversation(
        [
            Turn("Please describe the molecule.", [Molecule(ASPIRIN)], answer="It is aspirin."),
            Turn("Is it an acid?"),
        ]
    )
    assert render_prompt(conversation) == (
        SYSTEM + "### Human: <molecule><moleculeHere></molecule> Please describe the molecule. "
        "### Assistant: It is aspirin. ### Human: Is it an acid? ### Assistant: "
    )


def test_split_at_placeholders():
    prompt = render_prompt(
        Conversation(
            [
                Turn("Bind?", [Molecule(ASPIRIN), Protein("MK")]),
            ]
        )
    )
    segments, modalities = split_prompt(prompt)
    assert modalities == ["molecule", "protein"]
    assert segments == [
        SYSTEM + "### Human: <molecule>",
        "</molecule> ### Human: <protein>",
        "</protein> Bind? ### Assistant: ",
    ]


@pytest.mark.parametrize(
    ("conversation", "message"),
    [
        (Conversation([]), "at least one turn"),
        (Conversation([Turn("  ")]), "no question"),
        (Conversation([Turn("q", answer="a")]), "last turn must not have an answer"),
        (Conversation([Turn("q"), Turn("r")]), "only the last turn may be unanswered"),
        (Conversation([Turn("what is <moleculeHere>?")]), "attach inputs as Molecule/Protein"),
        (Conversation([Turn("q", ["CCO"])]), "use Molecule or Protein"),
    ],
)
def test_bad_conversations_raise(conversation, message):
    with pytest.raises(ValueError, match=message):
        render_prompt(conversation)


# --- tokenization ---------------------------------------------------------------------------

TRICKY_TEXTS = [
    SYSTEM + "### Human: <molecule>",
    "</molecule> Please describe the molecule. ### Assistant: ",
    "</protein> ### Human: <molecule>",
    " leading space",
    "   three leading spaces and  double  spaces",
    "trailing spaces   ",
    "\ttab and\nnewlines\n\n",
    "digits 12345 and 3.14",
    "unicode: é, ü, α-helix, 中文, 🧬",
    "a literal </s> and [PAD] and <s> stay text",
    "x",
]


@pytest.fixture(scope="module")
def sentencepiece_model(tiny_assets):
    return sentencepiece.SentencePieceProcessor(model_file=str(tiny_assets[0] / "tokenizer.model"))


def tokenizer_variants(llm_dir, tmp_path):
    """The ways a Llama tokenizer reaches transformers 5, each must encode like SentencePiece."""
    default = LlamaTokenizer.from_pretrained(str(llm_dir))
    yield "default", default
    yield "legacy", LlamaTokenizer.from_pretrained(str(llm_dir), legacy=True)
    yield "no_prefix_space", LlamaTokenizer.from_pretrained(str(llm_dir), add_prefix_space=False)
    saved = tmp_path / "saved"
    load_text_tokenizer(llm_dir).save_pretrained(str(saved))
    yield "tokenizer_json", load_text_tokenizer(saved)
    # A tokenizer.json as transformers 4.3x wrote it: the dummy prefix is a normalizer.
    old = tmp_path / "old_style"
    old.mkdir()
    data = json.loads((saved / "tokenizer.json").read_text())
    data["normalizer"] = {
        "type": "Sequence",
        "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
        ],
    }
    data["pre_tokenizer"] = None
    (old / "tokenizer.json").write_text(json.dumps(data))
    (old / "tokenizer_config.json").write_text((saved / "tokenizer_config.json").read_text())
    yield "old_tokenizer_json", load_text_tokenizer(old)


def test_segments_encode_exactly_as_sentencepiece(tiny_assets, sentencepiece_model, tmp_path):
    checked = []
    for name, tokenizer in tokenizer_variants(tiny_assets[0], tmp_path):
        encoder = SegmentEncoder(tokenizer)
        for text in TRICKY_TEXTS:
            assert encoder.encode(text) == sentencepiece_model.encode(text), (name, text)
            assert encoder.encode(text, add_bos=True) == [1] + sentencepiece_model.encode(text), (
                name,
                text,
            )
        checked.append(name)
    assert len(checked) == 5


def test_prompt_segments_bos_only_on_the_first(segment_encoder, sentencepiece_model):
    conversation = Conversation(
        [
            Turn("Describe it.", [Molecule(ASPIRIN)], answer="An acid."),
            Turn(
                "Does this molecule bind to this protein?", [Molecule("CCO"), Protein("MKTAYIAK")]
            ),
        ]
    )
    tokenized = segment_encoder.tokenize_prompt(render_prompt(conversation))
    segments, modalities = split_prompt(render_prompt(conversation))
    assert tokenized.modalities == modalities == ["molecule", "molecule", "protein"]
    assert tokenized.segment_ids[0] == [1] + sentencepiece_model.encode(segments[0])
    for text, ids in zip(segments[1:], tokenized.segment_ids[1:], strict=True):
        assert ids == sentencepiece_model.encode(text)
        assert 1 not in ids and 2 not in ids
        assert sentencepiece_model.id_to_piece(ids[0]).startswith(
            "\u2581"
        )  # SentencePiece's dummy prefix


def test_pad_token_is_added_as_the_last_id(text_tokenizer, sentencepiece_model):
    assert text_tokenizer.pad_token == "[PAD]"
    assert (
        text_tokenizer.pad_token_id
        == sentencepiece_model.get_piece_size()
        == len(text_tokenizer) - 1
    )
    assert (text_tokenizer.bos_token_id, text_tokenizer.eos_token_id) == (1, 2)


def test_folder_without_tokenizer_files_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no tokenizer.model or tokenizer.json"):
        load_text_tokenizer(tmp_path)

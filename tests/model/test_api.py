"""The BioMedGPT facade: requests, results, errors, save/load, protein vectors, identity."""

from __future__ import annotations

import pytest
import torch

from biomedgpt_tools.model.answer_text import cut_answer
from biomedgpt_tools.model.api import BioMedGPT, saved_revision, weights_fingerprint
from biomedgpt_tools.model.placement import resolve_dtype
from biomedgpt_tools.model.prompt import SYSTEM_TEXT_BIOLOGY, Molecule, Protein, Turn
from biomedgpt_tools.model.requests import GenerationRequest
from biomedgpt_tools.model.tiny import build_tiny_model
from tests.scripted_decoding import ANSWER_OF_TWO_MORE_MARKERS, TWO_MORE_MARKERS, script_decoding

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
PROTEIN = "MKTAYIAKQRQISFVKSHFSRQ"


def requests():
    return [
        GenerationRequest("Please describe the molecule.", [Molecule(ASPIRIN)]),
        GenerationRequest("What is a kinase?"),
        GenerationRequest(
            "Does this molecule bind to this protein?", [Molecule("CCO"), Protein(PROTEIN)]
        ),
        GenerationRequest(
            "Is it chiral?",
            history=[Turn("Describe it.", [Molecule("C[C@H](N)C(=O)O")], answer="Alanine.")],
        ),
        GenerationRequest("What is its function?", [Protein("MKV")], system=SYSTEM_TEXT_BIOLOGY),
    ]


def test_results_keep_request_order_and_match_single_requests(tiny_biomedgpt):
    batched = tiny_biomedgpt.generate(requests(), batch_size=2, max_new_tokens=6)
    alone = [tiny_biomedgpt.generate(request, max_new_tokens=6)[0] for request in requests()]
    assert [r.token_ids for r in batched] == [r.token_ids for r in alone]
    for request, result in zip(requests(), batched, strict=True):
        assert result.prompt == tiny_biomedgpt.prompt(request)
        assert result.prompt.endswith(f"{request.question} ### Assistant: ")
        assert result.text == cut_answer(result.raw_text)
        assert len(result.token_ids) == 6 and not result.finished
        assert result.to_json() == {
            "prompt": result.prompt,
            "text": result.text,
            "token_ids": result.token_ids,
        }


def test_stream_gives_pieces_then_the_result(tiny_biomedgpt):
    request = requests()[2]
    expected = tiny_biomedgpt.generate(request, max_new_tokens=12)[0]
    streamed = tiny_biomedgpt.stream(request, max_new_tokens=12)
    text = "".join(streamed)
    assert text == expected.text == streamed.result.text  # deltas of the answer, nothing else
    assert streamed.result.token_ids == expected.token_ids
    assert streamed.result.raw_text == expected.raw_text


def test_a_request_carries_its_own_new_token_limit(tiny_biomedgpt):
    """GenerationRequest.max_new_tokens is what generate and stream decode to unless the call
    gives its own; a batch decodes to the largest of its requests' limits."""
    short, longer = (
        GenerationRequest("What is a kinase?", max_new_tokens=limit) for limit in (3, 5)
    )
    assert len(tiny_biomedgpt.generate(short)[0].token_ids) == 3
    streamed = tiny_biomedgpt.stream(short)
    list(streamed)
    assert len(streamed.result.token_ids) == 3
    assert len(tiny_biomedgpt.generate(short, max_new_tokens=4)[0].token_ids) == 4
    batch = tiny_biomedgpt.generate([short, longer])
    assert [len(result.token_ids) for result in batch] == [5, 5]
    row = tiny_biomedgpt.check_request(short)  # a row carries no limit: the call must say
    with pytest.raises(ValueError, match="pass max_new_tokens"):
        tiny_biomedgpt.generate([row])
    assert len(tiny_biomedgpt.generate([row], max_new_tokens=3)[0].token_ids) == 3


def test_a_second_turn_in_the_generated_text_is_cut_alike_streamed_or_not(tiny_assets, monkeypatch):
    """The model opens with `Assistant:` again and later begins a turn of its own: the stream
    holds back what may be a marker, never takes a delta back, and joins to the answer."""
    model = BioMedGPT.from_components(build_tiny_model(seed=0), *tiny_assets)
    script_decoding(monkeypatch, model)
    request = requests()[0]
    whole = model.generate(request, max_new_tokens=len(TWO_MORE_MARKERS))[0]
    assert whole.raw_text == "".join(TWO_MORE_MARKERS) and whole.raw_text.count("Assistant:") == 2
    streamed = model.stream(request, max_new_tokens=len(TWO_MORE_MARKERS))
    deltas = list(streamed)
    assert "".join(deltas) == streamed.result.text == whole.text == ANSWER_OF_TWO_MORE_MARKERS
    assert len(deltas) > 1 and not any("#" in delta or "Assis" in delta for delta in deltas)


def _decode_by_length(monkeypatch, model, texts):
    """The first n new tokens decode to texts[n - 1]: a tokenizer whose later text can rewrite
    earlier text, as spacing clean-up does."""
    monkeypatch.setattr(model.segments, "decode", lambda ids: texts[len(list(ids)) - 1])
    monkeypatch.setattr(model.segments, "_byte_fallback_ids", frozenset(), raising=False)


def test_a_decode_that_rewrites_sent_text_does_not_cut_the_answer_short(tiny_assets, monkeypatch):
    """At 4 tokens the text no longer extends what was sent ("x ." became "x."): the stream
    sends the rest once generation ends, and the result is the whole answer."""
    texts = ("It", "It is", "It is x ", "It is x. Yes", "It is x. Yes indeed")
    model = BioMedGPT.from_components(build_tiny_model(seed=0), *tiny_assets)
    _decode_by_length(monkeypatch, model, texts)
    request = requests()[0]
    whole = model.generate(request, max_new_tokens=len(texts))[0]
    streamed = model.stream(request, max_new_tokens=len(texts))
    deltas = list(streamed)
    assert whole.text == streamed.result.text == "It is x. Yes indeed"
    assert "".join(deltas) == streamed.result.text


def test_a_stream_that_cannot_end_on_the_answer_says_so_and_returns_it(
    tiny_assets, monkeypatch, caplog
):
    texts = ("It", "It is", "It is x", "Itis x y", "Itis x y z")
    model = BioMedGPT.from_components(build_tiny_model(seed=0), *tiny_assets)
    _decode_by_length(monkeypatch, model, texts)
    streamed = model.stream(requests()[0], max_new_tokens=len(texts))
    deltas = list(streamed)
    assert streamed.result.text == "Itis x y z"  # the truth, not what happened to be sent
    assert "".join(deltas) == "It is x"  # what was sent before the rewrite, never taken back
    assert "decoding rewrote text already sent" in caplog.text


def test_stream_text_survives_byte_fallback_runs(tiny_assets):
    """Seed 5 answers with a run of byte pieces that is not UTF-8: the decoder rewrites a
    byte that alone read as a space, so text released early would be wrong."""
    model = BioMedGPT.from_components(build_tiny_model(seed=5), *tiny_assets)
    request = GenerationRequest("Describe it.", [Molecule("CC(=O)Oc1ccccc1C(=O)O")])
    streamed = model.stream(request, max_new_tokens=6)
    pieces = list(streamed)
    byte_pieces = model.segments.byte_fallback_ids
    assert sum(token in byte_pieces for token in streamed.result.token_ids) >= 2
    assert "".join(pieces) == streamed.result.text == cut_answer(streamed.result.raw_text)


def test_lowercase_protein_is_upper_cased(tiny_biomedgpt):
    lower = tiny_biomedgpt.generate(
        GenerationRequest("q", [Protein(PROTEIN.lower())]), max_new_tokens=6
    )[0]
    upper = tiny_biomedgpt.generate(GenerationRequest("q", [Protein(PROTEIN)]), max_new_tokens=6)[0]
    assert lower.token_ids == upper.token_ids


def test_a_300_atom_molecule_is_answered(tiny_biomedgpt):
    result = tiny_biomedgpt.generate(
        GenerationRequest("Describe it.", [Molecule("C" * 300)]), max_new_tokens=3
    )[0]
    assert len(result.token_ids) == 3


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (GenerationRequest(""), "request 1: turn 0 has no question"),
        (GenerationRequest("q", [Molecule("C1CC")]), "request 1: cannot parse SMILES 'C1CC'"),
        (GenerationRequest("q", [Molecule("")]), "request 1: .*SMILES"),
        (
            GenerationRequest("q", [Protein("MKT1Z")]),
            "request 1: protein sequence .* not amino-acid letters",
        ),
        (GenerationRequest("q", [Protein("")]), "request 1: protein sequence is empty"),
        (
            GenerationRequest("q", [Protein("M" * 1023)]),
            "request 1: protein sequence has 1023 residues",
        ),
    ],
)
def test_bad_requests_name_the_request_and_the_input(tiny_biomedgpt, request_, message):
    with pytest.raises(ValueError, match=message):
        tiny_biomedgpt.generate([requests()[1], request_], max_new_tokens=2)


def test_prompts_longer_than_the_context_are_refused(tiny_biomedgpt):
    limit = tiny_biomedgpt.model.config.text_config.max_position_embeddings  # 2048 in tiny
    request = GenerationRequest("q", [Protein("M" * 1000), Protein("A" * 1000)])
    with pytest.raises(
        ValueError, match=f"request 0: the prompt takes .* exceed the model's {limit}"
    ):
        tiny_biomedgpt.generate(request, max_new_tokens=255)
    with pytest.raises(ValueError, match="exceed"):
        tiny_biomedgpt.stream(request)


def test_bad_generation_arguments(tiny_biomedgpt):
    with pytest.raises(ValueError, match="batch_size"):
        tiny_biomedgpt.generate(requests(), batch_size=0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        tiny_biomedgpt.generate(requests(), max_new_tokens=0)
    with pytest.raises(ValueError, match="unknown dtype"):
        resolve_dtype("fp8")


def test_requests_from_json_objects():
    simple = GenerationRequest.from_mapping(
        {"question": "q", "molecule": "CCO", "protein": "MKV", "system": "S "}
    )
    assert simple.inputs == [Molecule("CCO"), Protein("MKV")] and simple.system == "S "
    ordered = GenerationRequest.from_mapping(
        {"question": "q", "inputs": [{"protein": "MKV"}, {"molecule": "CCO"}]}
    )
    assert ordered.inputs == [Protein("MKV"), Molecule("CCO")]
    for bad, message in [
        ({"molecule": "CCO"}, "needs a 'question'"),
        ({"question": "q", "smiles": "CCO"}, "unknown request field"),
        ({"question": "q", "inputs": [{"dna": "ACGT"}]}, "each entry of 'inputs'"),
        ({"question": "q", "inputs": [], "molecule": "C"}, "not both"),
        ({"question": "q", "molecule": 5}, "must be given as a string"),
        (["q"], "JSON object"),
    ]:
        with pytest.raises(ValueError, match=message):
            GenerationRequest.from_mapping(bad)


def test_save_and_load_back(tiny_biomedgpt, tmp_path):
    folder = tiny_biomedgpt.save_pretrained(tmp_path / "tiny-model", max_shard_size="100KB")
    names = {path.name for path in folder.iterdir()}
    assert {
        "config.json",
        "tokenizer.model",
        "tokenizer.json",
        "tokenizer_config.json",
        "esm",
    } <= names
    assert sum(name.endswith(".safetensors") for name in names) > 1
    assert (folder / "esm" / "vocab.txt").is_file()
    assert saved_revision(folder) == tiny_biomedgpt.revision  # readable without loading
    loaded = BioMedGPT.from_pretrained(folder)
    assert loaded.model_id == "tiny-model"
    assert loaded.revision == tiny_biomedgpt.revision
    assert weights_fingerprint(loaded.model) == tiny_biomedgpt.revision  # not just the file
    expected = tiny_biomedgpt.generate(requests(), max_new_tokens=5)
    assert [r.token_ids for r in loaded.generate(requests(), max_new_tokens=5)] == [
        r.token_ids for r in expected
    ]
    half = BioMedGPT.from_pretrained(folder, dtype="bf16")
    assert half.dtype == torch.bfloat16
    # the same weights, loaded in another dtype
    assert weights_fingerprint(half.model) == tiny_biomedgpt.revision
    assert all(len(r.token_ids) == 3 for r in half.generate(requests()[:2], max_new_tokens=3))


def test_revision_changes_with_the_weights(tiny_biomedgpt, tiny_assets):
    other = BioMedGPT.from_components(build_tiny_model(seed=1), *tiny_assets)
    assert other.revision != tiny_biomedgpt.revision
    assert len(tiny_biomedgpt.revision) == 12


def test_revision_sees_an_edit_in_the_middle_of_a_tensor(tiny_biomedgpt):
    """A fine-tune may touch a few rows only: every value must count, not a sample."""
    model = build_tiny_model(seed=0)
    before = weights_fingerprint(model)
    assert before == tiny_biomedgpt.revision  # same seed, same weights
    embeddings = model.llm.model.embed_tokens.weight
    middle = embeddings.numel() // 2
    with torch.no_grad():
        embeddings.view(-1)[middle : middle + 10] += 1.0
    assert weights_fingerprint(model) != before


def test_encode_protein_is_the_mean_over_residues(tiny_biomedgpt):
    vector = tiny_biomedgpt.encode_protein(PROTEIN.lower())
    model = tiny_biomedgpt.model
    assert (
        vector.shape == (model.config.protein_config.hidden_size,) and vector.dtype == torch.float32
    )
    from biomedgpt_tools.model.protein_sequence import protein_token_ids

    ids = torch.tensor([protein_token_ids(PROTEIN)])
    with torch.no_grad():
        states = model.prot_structure_encoder(input_ids=ids).last_hidden_state[0]
    torch.testing.assert_close(vector, states[1:-1].mean(0), rtol=1e-5, atol=1e-5)
    assert tiny_biomedgpt.encode_proteins([]).shape == (0, vector.shape[0])
    batched = tiny_biomedgpt.encode_proteins([PROTEIN, "MKV", PROTEIN])
    torch.testing.assert_close(batched[0], vector, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(batched[2], vector, rtol=1e-5, atol=1e-5)


def test_tokenizer_and_vocabulary_must_agree(tiny_assets):
    model = build_tiny_model(seed=0)
    model.llm.resize_token_embeddings(model.config.text_config.vocab_size + 5)
    model.config.text_config.vocab_size += 5
    with pytest.raises(ValueError, match="tokenizer has .* tokens .* vocabulary has"):
        BioMedGPT.from_components(model, *tiny_assets)


def test_wrong_esm_vocabulary_is_refused(tiny_assets, tmp_path):
    (tmp_path / "vocab.txt").write_text("<cls>\n<pad>\n")
    with pytest.raises(ValueError, match="not the ESM-2 vocabulary"):
        BioMedGPT.from_components(build_tiny_model(), tiny_assets[0], tmp_path)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="has no config.json"):
        BioMedGPT.from_pretrained(tmp_path)


def test_from_official_gives_the_same_answers(tiny_biomedgpt, tmp_path):
    from biomedgpt_tools.testing.official_layout import write_official_checkpoint

    pth = write_official_checkpoint(
        tiny_biomedgpt.model, tmp_path / "biomedgpt_10b.pth", tmp_path / "llm", tmp_path / "esm"
    )
    official = BioMedGPT.from_official(pth, tmp_path / "llm", tmp_path / "esm", dtype="fp32")
    assert official.model_id == "biomedgpt_10b"
    expected = tiny_biomedgpt.generate(requests()[:3], max_new_tokens=5)
    got = official.generate(requests()[:3], max_new_tokens=5)
    assert [r.token_ids for r in got] == [r.token_ids for r in expected]

"""Log-likelihood scoring of options on a tiny BioMedGPT: batched equals one-at-a-time."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from biomedgpt_tools.model.prompt import (  # noqa: E402
    Conversation,
    Molecule,
    SegmentEncoder,
    Turn,
    load_text_tokenizer,
    render_prompt,
)
from biomedgpt_tools.model.tiny import build_tiny_model, write_tiny_assets  # noqa: E402
from evals.tasks.option_likelihood import best_option, option_log_likelihoods  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    llm_dir, _ = write_tiny_assets(tmp_path_factory.mktemp("tiny-assets"))
    tokenizer = load_text_tokenizer(llm_dir)
    return build_tiny_model(seed=3), tokenizer, SegmentEncoder(tokenizer)


def _manual_score(model, encoder, conversation, option) -> float:
    """Sum of log p(option token | prefix) from one unpadded forward pass of the LM alone."""
    prompt_ids = encoder.encode(render_prompt(conversation), add_bos=True)
    option_ids = encoder.encode(option)
    with torch.no_grad():
        logits = model.llm(input_ids=torch.tensor([prompt_ids + option_ids])).logits[0]  # (T, V)
    log_probs = torch.log_softmax(logits.double(), dim=-1)
    return sum(float(log_probs[len(prompt_ids) + i - 1, t]) for i, t in enumerate(option_ids))


def test_batched_scores_equal_one_at_a_time_scores(tiny):
    model, tokenizer, encoder = tiny
    conversations = [
        Conversation(turns=[Turn(question="Is the compound toxic? Answer yes, no or maybe.")]),
        Conversation(turns=[Turn(question="Which option?")]),
    ]
    options = [["yes", "no", "maybe"], ["The answer is A", "B"]]
    scores = option_log_likelihoods(
        model,
        encoder,
        tokenizer.pad_token_id,
        tokenizer.eos_token_id,
        conversations,
        options,
        batch_size=3,
    )
    assert [len(s) for s in scores] == [3, 2]
    for conversation, texts, row in zip(conversations, options, scores, strict=True):
        for text, score in zip(texts, row, strict=True):
            assert score == pytest.approx(
                _manual_score(model, encoder, conversation, text), abs=1e-4
            )
            assert score < 0


def test_molecule_conversations_can_be_scored(tiny):
    model, tokenizer, encoder = tiny
    conversation = Conversation(
        turns=[Turn(question="Is it an acid?", inputs=[Molecule("CC(=O)O")])]
    )
    (scores,) = option_log_likelihoods(
        model,
        encoder,
        tokenizer.pad_token_id,
        tokenizer.eos_token_id,
        [conversation],
        [["yes", "no"]],
    )
    assert len(scores) == 2 and all(s < 0 for s in scores)


def test_empty_option_is_refused(tiny):
    model, tokenizer, encoder = tiny
    conversation = Conversation(turns=[Turn(question="q?")])
    with pytest.raises(ValueError, match="empty"):
        option_log_likelihoods(model, encoder, 0, 2, [conversation], [["yes", " "]])


def test_best_option_breaks_ties_by_order():
    assert best_option(["A", "B", "C"], [-3.0, -1.0, -1.0]) == "B"
    assert best_option(["yes", "no"], [-0.5, -2.0]) == "yes"

"""Batched generation equals one-at-a-time generation; eos, streaming, sampling and beams."""

from __future__ import annotations

import pytest
import torch

from biomedgpt_tools.model.generation import (
    GenerationOptions,
    generate_batch,
    stream_generation,
    trim_at_eos,
)
from biomedgpt_tools.model.modeling_biomedgpt import build_multimodal_batch
from biomedgpt_tools.model.prompt import Conversation, Molecule, Protein, Turn

MIXED = [
    Conversation([Turn("Please describe the molecule.", [Molecule("CC(=O)Oc1ccccc1C(=O)O")])]),
    Conversation(
        [
            Turn(
                "What is the function of this protein?",
                [Protein("MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ")],
            )
        ]
    ),
    Conversation(
        [Turn("Does this molecule bind to this protein?", [Molecule("CCO"), Protein("MKV")])]
    ),
    Conversation([Turn("What is a kinase?")]),
    Conversation([Turn("Compare them.", [Molecule("c1ccccc1"), Molecule("[Na+].[Cl-]")])]),
    Conversation([Turn("Which family?", [Protein("GSHMSLFDFFKNKGSAAATATSK")])]),
    Conversation(
        [
            Turn("Describe it.", [Molecule("C[C@H](N)C(=O)O")], answer="It is alanine."),
            Turn("Is it chiral?"),
        ]
    ),
    Conversation(
        [
            Turn(
                "Is it toxic to the liver? Answer yes or no and explain the mechanism of action.",
                [Molecule("C")],
            )
        ]
    ),
    Conversation([Turn("Hi")]),
]


def batch_of(conversations, segment_encoder, model):
    return build_multimodal_batch(
        conversations, segment_encoder, model.config.text_config.pad_token_id
    )


def test_batched_greedy_equals_one_at_a_time(tiny_model, segment_encoder):
    options = GenerationOptions(max_new_tokens=16)
    batched = generate_batch(tiny_model, batch_of(MIXED, segment_encoder, tiny_model), options)
    singles = [
        generate_batch(tiny_model, batch_of([c], segment_encoder, tiny_model), options)[0]
        for c in MIXED
    ]
    assert [row.token_ids for row in batched] == [row.token_ids for row in singles]
    lengths = [int(batch_of([c], segment_encoder, tiny_model).attention_mask.sum()) for c in MIXED]
    assert len(set(lengths)) == len(MIXED)  # every row has its own length: padding is exercised
    assert len({tuple(row.token_ids) for row in batched}) == len(
        MIXED
    )  # outputs depend on the input


def test_defaults_are_the_references():
    options = GenerationOptions()
    assert (
        options.max_new_tokens,
        options.do_sample,
        options.num_beams,
        options.repetition_penalty,
    ) == (255, False, 1, 1.0)
    config = options.generation_config(eos_token_id=2, pad_token_id=700, bos_token_id=1)
    assert config.eos_token_id == 2 and config.pad_token_id == 700 and config.use_cache


def force_eos_after(model, steps: int):
    """Make the LM emit eos from its `steps`-th decoding call on (call 0 is the prompt)."""
    calls = {"n": 0}

    def hook(module, inputs, output):
        calls["n"] += 1
        if calls["n"] > steps:
            output = output.clone()
            output[..., 2] += 1e4
        return output

    return model.llm.lm_head.register_forward_hook(hook)


def test_generation_stops_at_eos(tiny_model, segment_encoder):
    handle = force_eos_after(tiny_model, steps=3)
    try:
        rows = generate_batch(
            tiny_model, batch_of(MIXED[:3], segment_encoder, tiny_model), GenerationOptions()
        )
    finally:
        handle.remove()
    for row in rows:
        assert row.finished and len(row.token_ids) == 4 and row.token_ids[-1] == 2
        assert 2 not in row.token_ids[:-1]


def test_rows_that_reach_max_new_tokens_are_not_finished(tiny_model, segment_encoder):
    rows = generate_batch(
        tiny_model,
        batch_of(MIXED[:2], segment_encoder, tiny_model),
        GenerationOptions(max_new_tokens=5),
    )
    assert all(not row.finished and len(row.token_ids) == 5 for row in rows)


def test_trim_at_eos_drops_padding():
    assert trim_at_eos([5, 6, 2, 700, 700], 2).token_ids == [5, 6, 2]
    assert trim_at_eos([5, 6], 2).finished is False


def test_sampling_is_reproducible_with_a_seed(tiny_model, segment_encoder):
    batch = batch_of(MIXED[:3], segment_encoder, tiny_model)
    options = GenerationOptions(
        max_new_tokens=10, do_sample=True, temperature=1.5, top_k=50, seed=7
    )
    first = generate_batch(tiny_model, batch, options)
    second = generate_batch(tiny_model, batch, options)
    greedy = generate_batch(tiny_model, batch, GenerationOptions(max_new_tokens=10))
    assert [r.token_ids for r in first] == [r.token_ids for r in second]
    assert [r.token_ids for r in first] != [r.token_ids for r in greedy]


def test_beam_search_runs_batched(tiny_model, segment_encoder):
    batch = batch_of(MIXED[:3], segment_encoder, tiny_model)
    rows = generate_batch(tiny_model, batch, GenerationOptions(max_new_tokens=6, num_beams=3))
    assert len(rows) == 3 and all(0 < len(row.token_ids) <= 6 for row in rows)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (GenerationOptions(max_new_tokens=0), "max_new_tokens"),
        (GenerationOptions(num_beams=0), "num_beams"),
        (GenerationOptions(do_sample=True, temperature=0), "temperature"),
        (GenerationOptions(top_p=1.5), "top_p"),
    ],
)
def test_bad_options_raise(options, message):
    with pytest.raises(ValueError, match=message):
        options.validate()


def test_streaming_yields_the_same_text_and_tokens(tiny_model, segment_encoder):
    options = GenerationOptions(max_new_tokens=16)
    batch = batch_of(MIXED[:1], segment_encoder, tiny_model)
    expected = generate_batch(tiny_model, batch, options)[0]
    streamed = stream_generation(tiny_model, batch, segment_encoder.decode, options)
    pieces = list(streamed)
    assert len(pieces) > 1
    assert "".join(pieces) == segment_encoder.decode(expected.token_ids)
    assert streamed.tokens.token_ids == expected.token_ids


def test_closing_a_stream_stops_the_generation_thread(tiny_model, segment_encoder):
    """A reader that gives up must leave the model free, not generating in the background."""
    options = GenerationOptions(max_new_tokens=400)
    batch = batch_of(MIXED[:1], segment_encoder, tiny_model)
    streamed = stream_generation(tiny_model, batch, segment_encoder.decode, options)
    first = streamed._streamer.queue.get()  # the first generated token: decoding is under way
    streamed.close()
    assert not streamed._thread.is_alive()
    produced = 1 + streamed._streamer.queue.qsize()
    assert first is not None and produced < 400  # stopped early, not run to the limit


def test_streaming_refuses_batches_and_beams(tiny_model, segment_encoder):
    with pytest.raises(ValueError, match="one request"):
        stream_generation(
            tiny_model, batch_of(MIXED[:2], segment_encoder, tiny_model), segment_encoder.decode
        )
    with pytest.raises(ValueError, match="num_beams=1"):
        stream_generation(
            tiny_model,
            batch_of(MIXED[:1], segment_encoder, tiny_model),
            segment_encoder.decode,
            GenerationOptions(num_beams=2),
        )


def test_streaming_reraises_errors_from_the_generation_thread(tiny_model, segment_encoder):
    batch = batch_of(MIXED[:1], segment_encoder, tiny_model)
    batch.soft_token_mask[:] = False  # slots and soft tokens no longer agree
    streamed = stream_generation(tiny_model, batch, segment_encoder.decode)
    with pytest.raises(ValueError, match="soft-token slots"):
        list(streamed)


def test_generation_runs_under_bf16(segment_encoder):
    from biomedgpt_tools.model.tiny import build_tiny_model

    model = build_tiny_model(seed=0, dtype=torch.bfloat16)
    rows = generate_batch(
        model, batch_of(MIXED[:3], segment_encoder, model), GenerationOptions(max_new_tokens=4)
    )
    assert all(len(row.token_ids) == 4 for row in rows)

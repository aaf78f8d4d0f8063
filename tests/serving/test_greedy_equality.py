"""Greedy answers through the server equal in-process `biomedgpt generate`, token for token."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx

from biomedgpt_tools.inference.wire import chat_request_body
from biomedgpt_tools.model.prompt import Molecule, Protein, Turn
from biomedgpt_tools.model.requests import GenerationRequest

MAX_NEW_TOKENS = 24
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"
INSULIN_B = "FVNQHLCGSHLVEALYLVCGERGFFYTPKT"
UBIQUITIN = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"


def mixed_requests() -> list[GenerationRequest]:
    """Molecules, proteins, both, several of each, text only, two-turn, a custom system text."""
    return [
        GenerationRequest("Please describe the molecule.", [Molecule(ASPIRIN)]),
        GenerationRequest("What is the function of this protein?", [Protein(UBIQUITIN)]),
        GenerationRequest("Does this molecule bind to this protein?", [Molecule(CAFFEINE), Protein(INSULIN_B)]),
        GenerationRequest("Which enzymes metabolize this drug?", [Molecule("CCO")]),
        GenerationRequest("What is the subcellular location of this protein?", [Protein(INSULIN_B)]),
        GenerationRequest("Compare these molecules.", [Molecule(ASPIRIN), Molecule(CAFFEINE)]),
        GenerationRequest("What is the official name of this protein?", [Protein(UBIQUITIN), Protein(INSULIN_B)]),
        GenerationRequest("Is the compound toxic to the liver?"),
        GenerationRequest(
            "And how soluble is it in water?", [],
            history=[Turn("Please describe the molecule.", [Molecule(ASPIRIN)], "It is an acid.")],
        ),
        GenerationRequest(
            "Which family does it belong to?", [],
            history=[Turn("What is this protein?", [Protein(UBIQUITIN)], "A small regulatory protein.")],
        ),
        GenerationRequest("Describe its mechanism of action.", [Molecule("c1ccccc1O")],
                          system="You are working as an excellent assistant in biology. "),
        GenerationRequest("Does this molecule bind to this protein?", [Protein(INSULIN_B), Molecule("CC(N)C(=O)O")]),
        GenerationRequest("Describe the molecule.", [Molecule("C")]),
        GenerationRequest("What is the protein family that this protein belongs to?", [Protein("MKTAYIAKQR")]),
    ]  # fmt: skip


def limited(request: GenerationRequest) -> GenerationRequest:
    return replace(request, max_new_tokens=MAX_NEW_TOKENS)


def test_concurrent_greedy_answers_equal_in_process_generate(model_server, serving_biomedgpt):
    requests = mixed_requests()
    assert len(requests) >= 12
    expected = serving_biomedgpt.generate(requests, max_new_tokens=MAX_NEW_TOKENS)

    def ask(request: GenerationRequest) -> dict:
        body = chat_request_body(limited(request))
        response = httpx.post(f"{model_server.url}/v1/chat/completions", json=body, timeout=120)
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:  # all in flight at once
        answers = list(pool.map(ask, requests))
    for index, (want, got) in enumerate(zip(expected, answers, strict=True)):
        extension = got["biomedgpt"]
        assert extension["token_ids"] == want.token_ids, f"request {index}"
        assert got["choices"][0]["message"]["content"] == want.text, f"request {index}"
        assert extension["prompt"] == want.prompt, f"request {index}"
        assert got["usage"]["completion_tokens"] == len(want.token_ids)
        assert got["choices"][0]["finish_reason"] == ("stop" if want.finished else "length")


def test_streamed_deltas_join_to_the_in_process_answer(model_server, serving_biomedgpt):
    request = mixed_requests()[2]
    want = serving_biomedgpt.generate([request], max_new_tokens=MAX_NEW_TOKENS)[0]
    body = chat_request_body(limited(request), stream=True)
    text, final, usage = "", None, None
    import json

    with httpx.stream(
        "POST", f"{model_server.url}/v1/chat/completions", json=body, timeout=120
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            for choice in chunk["choices"]:
                text += choice["delta"].get("content") or ""
                if choice["finish_reason"]:
                    final = chunk
            usage = chunk.get("usage") or usage
    assert text == want.text
    assert final["biomedgpt"]["token_ids"] == want.token_ids
    assert usage["completion_tokens"] == len(want.token_ids)

"""The HTTP API: every bad input gets its 400 and the server keeps serving; models, health, metrics."""

from __future__ import annotations

import httpx
import pytest

GOOD = {"messages": [{"role": "user", "content": [
    {"type": "molecule", "smiles": "CCO"}, {"type": "text", "text": "Please describe the molecule."}]}],
    "max_tokens": 4}  # fmt: skip


def user(*parts) -> dict:
    return {"messages": [{"role": "user", "content": list(parts)}], "max_tokens": 4}


def text(value: str) -> dict:
    return {"type": "text", "text": value}


BAD_INPUTS = {
    "unparsable SMILES": (
        user({"type": "molecule", "smiles": "C1CC(("}, text("What is it?")),
        "SMILES",
    ),
    "non-residues": (
        user({"type": "protein", "sequence": "MKT123XJ!"}, text("What is it?")),
        "MKT123XJ!",
    ),
    "too long a protein": (
        user({"type": "protein", "sequence": "M" * 1100}, text("What is it?")),
        "1022",
    ),
    "too long a prompt": (
        {
            **user({"type": "protein", "sequence": "M" * 1000}, text("What is it?")),
            "max_tokens": 1500,
        },
        "positions",
    ),
    "unknown part type": (
        user({"type": "image_url", "image_url": {"url": "x"}}, text("What?")),
        "image_url",
    ),
    "no question text": (user({"type": "molecule", "smiles": "CCO"}), "question"),
    "unknown role": ({"messages": [{"role": "tool", "content": "x"}]}, "role"),
    "last message not from the user": (
        {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello"},
            ]
        },
        "last message",
    ),
    "bad max_tokens": ({**GOOD, "max_tokens": 0}, "max_tokens"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_answers_400_naming_the_problem_then_the_next_request_succeeds(
    model_server, case
):
    body, named = BAD_INPUTS[case]
    response = httpx.post(f"{model_server.url}/v1/chat/completions", json=body, timeout=60)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert named in error["message"]
    good = httpx.post(f"{model_server.url}/v1/chat/completions", json=GOOD, timeout=60)
    assert good.status_code == 200, good.text
    assert good.json()["usage"]["completion_tokens"] >= 1


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1, 2]", b""])
def test_malformed_json_answers_400(model_server, raw):
    response = httpx.post(
        f"{model_server.url}/v1/chat/completions", content=raw,
        headers={"content-type": "application/json"}, timeout=30,
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["message"]
    assert httpx.get(f"{model_server.url}/health", timeout=10).json()["status"] == "ok"


def test_health_models_and_metrics_describe_the_served_model(model_server, serving_biomedgpt):
    health = httpx.get(f"{model_server.url}/health", timeout=10).json()
    assert health["status"] == "ok"
    assert health["engine"] == "transformers"
    assert health["model"] == serving_biomedgpt.model_id
    assert health["revision"] == serving_biomedgpt.revision
    models = httpx.get(f"{model_server.url}/v1/models", timeout=10).json()
    assert [entry["id"] for entry in models["data"]] == [serving_biomedgpt.model_id]
    before = model_server.metric(
        'biomedgpt_requests_total{endpoint="chat_completions",status="200"}'
    )
    tokens_before = model_server.metric("biomedgpt_generation_tokens_total")
    answer = httpx.post(f"{model_server.url}/v1/chat/completions", json=GOOD, timeout=60).json()
    after = model_server.metric(
        'biomedgpt_requests_total{endpoint="chat_completions",status="200"}'
    )
    assert after == before + 1
    generated = answer["usage"]["completion_tokens"]
    assert model_server.metric("biomedgpt_generation_tokens_total") == tokens_before + generated
    page = httpx.get(f"{model_server.url}/metrics", timeout=10).text
    for name in ("biomedgpt_queue_depth", "biomedgpt_request_seconds_bucket",
                 "biomedgpt_time_to_first_token_seconds_count", "biomedgpt_prompt_tokens_total"):  # fmt: skip
        assert name in page


def test_protein_embeddings_equal_in_process_vectors(model_server, serving_biomedgpt):
    sequence = "MKTAYIAKQRQISFVKSHFSRQ"
    response = httpx.post(
        f"{model_server.url}/v1/embeddings", json={"input": [sequence]}, timeout=60
    )
    assert response.status_code == 200, response.text
    vector = response.json()["data"][0]["embedding"]
    expected = serving_biomedgpt.encode_protein(sequence).tolist()
    assert vector == pytest.approx(expected, abs=1e-5)
    bad = httpx.post(f"{model_server.url}/v1/embeddings", json={"input": ["MK1"]}, timeout=60)
    assert bad.status_code == 400


def test_unknown_path_is_a_json_404(model_server):
    response = httpx.get(f"{model_server.url}/v1/nothing", timeout=10)
    assert response.status_code == 404
    assert "error" in response.json()

"""The server's pieces without HTTP: embedding with the decoder dropped, the wire format both ways."""

from __future__ import annotations

import pytest
import torch

from biomedgpt_tools.inference.wire import WireError, chat_request_body, parse_chat_request
from biomedgpt_tools.model.prompt import SYSTEM_TEXT, Molecule, Protein, Turn, render_prompt
from biomedgpt_tools.model.requests import GenerationRequest
from tests.serving.models import build_serving_biomedgpt


def test_embeddings_survive_dropping_the_decoder(tmp_path):
    """With vLLM decoding, the server frees the LM layers; the embeddings it hands over stay the same."""
    from biomedgpt_tools.inference.wire import ChatRequest
    from biomedgpt_tools.serving.server import ModelServer, drop_decoder

    biomedgpt = build_serving_biomedgpt(tmp_path)
    server = ModelServer(lambda: biomedgpt, lambda model: None, engine_name="test")
    server.model = biomedgpt
    chat = parse_chat_request(
        chat_request_body(GenerationRequest("What is it?", [Molecule("CCO"), Protein("MKTAYI")]))
    )
    assert isinstance(chat, ChatRequest)
    before = server._prepare(chat).engine_request.prompt_embeds
    drop_decoder(biomedgpt)
    assert len(biomedgpt.model.llm.model.layers) == 0
    after = server._prepare(chat).engine_request.prompt_embeds
    assert torch.equal(before, after)
    assert (
        before.shape[0]
        == biomedgpt.segments.tokenize_prompt(render_prompt(chat.conversation)).num_text_tokens
        + 3
        + 8
    )  # 3 atoms, 6 residues + cls/eos


def test_a_question_round_trips_through_the_wire_format():
    question = GenerationRequest(
        "And the protein?", [Protein("MKT"), Molecule("CCO")],
        history=[Turn("What is it?", [Molecule("C")], "Methane.")], system="Be brief. ",
        max_new_tokens=7,
    )  # fmt: skip
    chat = parse_chat_request(chat_request_body(question))
    assert chat.conversation == question.conversation()
    assert chat.max_tokens == 7 and chat.temperature == 0.0
    default = parse_chat_request({"messages": [{"role": "user", "content": "Hi"}]})
    assert default.conversation.system == SYSTEM_TEXT and default.max_tokens == 255


@pytest.mark.parametrize("body, param", [
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}, "messages[1]"),
    ({"messages": [{"role": "user", "content": [{"type": "protein"}, {"type": "text", "text": "?"}]}]},
     "messages[0].content[0].sequence"),
    ({"messages": [{"role": "user", "content": "a"}], "temperature": 5}, "temperature"),
    ({"messages": [{"role": "user", "content": "a"}], "n": 2}, "n"),
    ({"messages": [{"role": "system", "content": [{"type": "molecule", "smiles": "C"}]},
                   {"role": "user", "content": "a"}]}, "messages[0].content[0].type"),
])  # fmt: skip
def test_unreadable_requests_name_the_field(body, param):
    with pytest.raises(WireError) as caught:
        parse_chat_request(body)
    assert caught.value.param == param


def test_api_key_and_loading_answers_in_process(tmp_path):
    """The app on a real ModelServer (transformers engine), driven in process by Starlette's client."""
    import threading

    from starlette.testclient import TestClient

    from biomedgpt_tools.serving.app import build_app
    from biomedgpt_tools.serving.server import ModelServer
    from biomedgpt_tools.serving.transformers_engine import TransformersEngine

    release = threading.Event()
    biomedgpt = build_serving_biomedgpt(tmp_path)

    def load():
        release.wait(30)
        return biomedgpt

    server = ModelServer(load, lambda model: TransformersEngine(model.model.llm), engine_name="transformers",
                         api_key="s3cret")  # fmt: skip
    body = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3}
    with TestClient(build_app(server)) as client:
        loading = client.get("/health")
        assert loading.status_code == 503 and loading.json()["status"] == "loading"
        busy = client.post(
            "/v1/chat/completions", json=body, headers={"Authorization": "Bearer s3cret"}
        )
        assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
        release.set()
        for _ in range(300):
            if client.get("/health").status_code == 200:
                break
            threading.Event().wait(0.1)
        assert client.get("/health").json()["status"] == "ok"  # open without the key
        assert client.post("/v1/chat/completions", json=body).status_code == 401
        wrong = client.post(
            "/v1/chat/completions", json=body, headers={"Authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401 and "API key" in wrong.json()["error"]["message"]
        good = client.post(
            "/v1/chat/completions", json=body, headers={"Authorization": "Bearer s3cret"}
        )
        assert good.status_code == 200 and good.json()["usage"]["completion_tokens"] == 3


def test_serve_cli_refuses_bad_arguments_in_one_line(tmp_path, capsys):
    import importlib.util

    from biomedgpt_tools.cli import main

    assert main(["serve"]) == 2
    assert "no model" in capsys.readouterr().err
    assert main(["serve", "--model", str(tmp_path), "--engine", "transformers"]) == 2
    assert "config.json" in capsys.readouterr().err
    (tmp_path / "config.json").write_text("{}")
    assert (
        main(
            [
                "serve",
                "--model",
                str(tmp_path),
                "--max-concurrency",
                "0",
                "--engine",
                "transformers",
            ]
        )
        == 2
    )
    assert "--max-concurrency must be at least 1" in capsys.readouterr().err
    if importlib.util.find_spec("vllm") is None:
        assert main(["serve", "--model", str(tmp_path), "--engine", "vllm"]) == 2
        assert "vLLM is not installed" in capsys.readouterr().err


def test_serve_warns_in_one_line_when_it_binds_beyond_loopback_without_a_key(
    tmp_path, capsys, monkeypatch
):
    import importlib.util

    from biomedgpt_tools.cli import main
    from biomedgpt_tools.cli.serve import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert (
        not is_loopback("0.0.0.0")
        and not is_loopback("10.1.2.3")
        and not is_loopback("example.org")
    )
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("needs a stop before the model loads: --engine vllm without vLLM installed")
    monkeypatch.delenv("BIOMEDGPT_API_KEY", raising=False)
    (tmp_path / "config.json").write_text("{}")
    serve = ["serve", "--model", str(tmp_path), "--engine", "vllm"]
    assert main([*serve, "--host", "0.0.0.0"]) == 2  # stops at the missing vLLM, after the check
    warning = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warning) == 1 and "0.0.0.0 without an API key" in warning[0]
    assert main([*serve, "--host", "0.0.0.0", "--api-key", "k"]) == 2
    assert main([*serve, "--host", "127.0.0.1"]) == 2
    assert "warning" not in capsys.readouterr().err
    assert main(["serve", "--model", str(tmp_path), "--max-body-mib", "0"]) == 2
    assert "--max-body-mib must be positive" in capsys.readouterr().err

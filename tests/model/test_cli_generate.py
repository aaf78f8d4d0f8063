"""`biomedgpt generate` and `biomedgpt convert` on a tiny checkpoint in the official layout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from biomedgpt_tools.cli import main
from biomedgpt_tools.model.api import BioMedGPT
from biomedgpt_tools.model.modeling_biomedgpt import build_multimodal_batch
from biomedgpt_tools.model.prompt import SYSTEM_TEXT, Molecule, Protein
from biomedgpt_tools.model.protein_sequence import truncation_note
from biomedgpt_tools.model.requests import GenerationRequest
from biomedgpt_tools.model.tiny import build_tiny_model
from biomedgpt_tools.testing.official_layout import write_official_checkpoint

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
PEPTIDE = "MKTAYIAKQRQISFVKSHFSRQ"
MAX_NEW = "6"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """{"official": [--official ... args], "model": converted folder, "tmp": scratch folder}."""
    folder = tmp_path_factory.mktemp("cli")
    write_official_checkpoint(
        build_tiny_model(seed=5), folder / "ck.pth", folder / "llm", folder / "esm"
    )
    official = [
        "--official",
        str(folder / "ck.pth"),
        "--llm-dir",
        str(folder / "llm"),
        "--esm-dir",
        str(folder / "esm"),
    ]
    converted = folder / "converted"
    code = main(
        [
            "convert",
            *official,
            "--out",
            str(converted),
            "--dtype",
            "fp32",
            "--max-shard-size",
            "100KB",
        ]
    )
    assert code == 0
    return {"official": official, "model": converted, "tmp": folder}


def _run(capsys, *argv):
    code = main(["generate", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_convert_writes_a_sharded_safetensors_folder(files):
    names = {path.name for path in files["model"].iterdir()}
    assert {"config.json", "model.safetensors.index.json", "tokenizer.model", "esm"} <= names
    assert len([name for name in names if name.endswith(".safetensors")]) > 1  # sharded
    assert not [name for name in names if name.endswith((".bin", ".pth", ".pt"))]


def test_convert_refuses_a_folder_with_files(files, capsys):
    code = main(["convert", *files["official"], "--out", str(files["model"])])
    assert code == 2 and "is not empty" in capsys.readouterr().err


def test_converted_folder_gives_the_same_logits_as_the_official_file(files):
    official = BioMedGPT.from_official(*files["official"][1::2], dtype=torch.float32)
    converted = BioMedGPT.from_pretrained(files["model"], dtype="fp32")
    requests = [
        GenerationRequest("Please describe the molecule.", [Molecule(ASPIRIN)]),
        GenerationRequest("What is the function of this protein?", [Protein(PEPTIDE)]),
        GenerationRequest("Do they bind?", [Protein("GSHMSLFDF"), Molecule("C[C@H](N)C(=O)O")]),
        GenerationRequest("What is aspirin?"),
    ]
    batch = build_multimodal_batch(
        [r.conversation() for r in requests], official.segments, official._pad_token_id
    )
    with torch.inference_mode():
        expected = official.model(**batch.model_inputs()).logits  # (B, T, V)
        got = converted.model(**batch.model_inputs()).logits
    torch.testing.assert_close(got, expected, rtol=0, atol=0)


@pytest.mark.skipif(not Path("/proc/self/maps").is_file(), reason="reads Linux /proc/self/maps")
def test_converted_folder_is_read_through_memory_maps(files):
    """Loading in the folder's dtype keeps the weights in the mapped shards (read lazily)."""
    loaded = BioMedGPT.from_pretrained(files["model"], dtype="fp32")
    mapped = Path("/proc/self/maps").read_text()
    shards = sorted(files["model"].glob("*.safetensors"))
    assert [shard for shard in shards if str(shard) in mapped] == shards
    assert loaded.dtype == torch.float32


def test_convert_of_a_damaged_file_fails_with_the_key(files, capsys, tmp_path):
    broken = tmp_path / "removed.pth"
    state_dict = torch.load(files["official"][1], weights_only=True)
    del state_dict["mol_structure_encoder.x_embedding2.weight"]
    torch.save(state_dict, broken)
    code = main(
        [
            "convert",
            "--official",
            str(broken),
            *files["official"][2:],
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "1 missing key(s): mol_structure_encoder.x_embedding2.weight" in err
    assert not (tmp_path / "out" / "config.json").exists()


def test_model_and_official_give_the_same_answers(files, capsys):
    request = [
        "--molecule",
        ASPIRIN,
        "--protein",
        PEPTIDE,
        "--question",
        "Do they bind?",
        "--max-new-tokens",
        MAX_NEW,
        "--json",
    ]
    code, from_official, _ = _run(capsys, *files["official"], *request)
    assert code == 0
    code, from_folder, _ = _run(capsys, "--model", str(files["model"]), *request)
    assert code == 0
    assert _json_lines(from_folder) == _json_lines(from_official)


def test_default_convert_is_fp16_and_matches_an_fp16_official_load(files, capsys):
    out = files["tmp"] / "converted-fp16"
    assert main(["convert", *files["official"], "--out", str(out)]) == 0
    capsys.readouterr()
    from safetensors import safe_open

    dtypes = {}
    for shard in out.glob("*.safetensors"):
        with safe_open(str(shard), framework="pt") as handle:
            dtypes |= {key: handle.get_slice(key).get_dtype() for key in handle.keys()}
    not_half = {key: dtype for key, dtype in dtypes.items() if dtype != "F16"}
    assert len(dtypes) > 80
    # batch-norm counters are integers; ESM's rotary buffer stays fp32 (it is used in fp32)
    assert not_half == {
        "mol_structure_encoder.batch_norms.0.num_batches_tracked": "I64",
        "mol_structure_encoder.batch_norms.1.num_batches_tracked": "I64",
        "prot_structure_encoder.rotary_embeddings.inv_freq": "F32",
    }
    request = ["--protein", PEPTIDE, "--question", "What is it?", "--max-new-tokens", MAX_NEW]
    _, from_official, _ = _run(capsys, *files["official"], *request, "--dtype", "fp16", "--json")
    _, from_folder, _ = _run(capsys, "--model", str(out), *request, "--dtype", "fp16", "--json")
    assert _json_lines(from_folder) == _json_lines(from_official)


def test_a_terminal_gets_the_answer_streamed(files, capsys, monkeypatch):
    argv = ["--model", str(files["model"]), "--molecule", ASPIRIN, "--question", "Describe it."]
    argv += ["--max-new-tokens", MAX_NEW]
    code, as_json, _ = _run(capsys, *argv, "--json")
    streamed_pieces = []
    from biomedgpt_tools.model.api import BioMedGPT as Facade

    original_stream = Facade.stream

    def recording_stream(self, request, **options):
        answer = original_stream(self, request, **options)
        streamed_pieces.append(answer)
        return answer

    monkeypatch.setattr(Facade, "stream", recording_stream)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, streamed, _ = _run(capsys, *argv)
    assert code == 0 and len(streamed_pieces) == 1  # the streaming path was taken
    result = _json_lines(as_json)[0]
    assert streamed_pieces[0].result.token_ids == result["token_ids"]
    # What is printed is the text the stream yields, then a newline. (Not compared with
    # result["text"]: with byte-fallback tokens the streamer in generation.py can drop the
    # tail of the text; reported to its owner.)
    assert streamed.endswith("\n") and streamed.strip()


def test_json_output_and_prompt_order(files, capsys):
    code, out, err = _run(
        capsys, "--model", str(files["model"]), "--protein", PEPTIDE, "--molecule", ASPIRIN, "--molecule", "CCO",
        "--question", "Which binds best?", "--max-new-tokens", MAX_NEW, "--json",
    )  # fmt: skip
    assert code == 0, err
    [result] = _json_lines(out)
    assert set(result) == {"prompt", "text", "token_ids"}
    assert result["prompt"] == (
        f"{SYSTEM_TEXT}### Human: <protein><proteinHere></protein> ### Human: <molecule><moleculeHere></molecule> "
        "### Human: <molecule><moleculeHere></molecule> Which binds best? ### Assistant: "
    )
    assert isinstance(result["text"], str)
    assert 1 <= len(result["token_ids"]) <= int(MAX_NEW)
    assert all(isinstance(token, int) for token in result["token_ids"])


def test_plain_output_is_the_answer_text(files, capsys):
    argv = [
        "--model",
        str(files["model"]),
        "--molecule",
        ASPIRIN,
        "--question",
        "Describe it.",
        "--max-new-tokens",
        MAX_NEW,
    ]
    code, plain, _ = _run(capsys, *argv)
    assert code == 0
    code, as_json, _ = _run(capsys, *argv, "--json")
    assert plain == _json_lines(as_json)[0]["text"] + "\n"


def test_batch_file_with_mixed_requests(files, capsys):
    lines = [
        {"question": "Please describe the molecule.", "molecule": ASPIRIN},
        {"question": "What is the function of this protein?", "protein": PEPTIDE.lower()},
        {"question": "Do they bind?", "inputs": [{"protein": "GSHMSLFDF"}, {"molecule": "CCO"}]},
        {"question": "What is aspirin?", "system": "You are terse. "},
        {"question": "Two of them?", "molecule": "CCO", "protein": "MVLSPADKTNVKAAW"},
    ]
    batch_file = files["tmp"] / "mixed.jsonl"
    batch_file.write_text(
        "\n".join(json.dumps(line) for line in lines[:2])
        + "\n\n"
        + "\n".join(json.dumps(line) for line in lines[2:])
        + "\n"
    )
    code, out, err = _run(
        capsys, "--model", str(files["model"]), "--batch", str(batch_file), "--system", "Default system. ",
        "--max-new-tokens", MAX_NEW, "--json", "--batch-size", "2",
    )  # fmt: skip
    assert code == 0, err
    results = _json_lines(out)
    assert len(results) == len(lines)
    prompts = [result["prompt"] for result in results]
    assert prompts[0].startswith(
        "Default system. ### Human: <molecule><moleculeHere></molecule> Please describe"
    )
    assert "<protein><proteinHere></protein> What is the function" in prompts[1]
    assert (
        "<protein><proteinHere></protein> ### Human: <molecule><moleculeHere></molecule> Do they bind?"
        in prompts[2]
    )
    assert prompts[3] == "You are terse. ### Human: What is aspirin? ### Assistant: "
    assert (
        "<molecule><moleculeHere></molecule> ### Human: <protein><proteinHere></protein> Two of them?"
        in prompts[4]
    )
    # A batched answer is the answer the same request gets alone (lowercase sequence upper-cased).
    code, alone, _ = _run(
        capsys, "--model", str(files["model"]), "--protein", PEPTIDE, "--question", lines[1]["question"],
        "--system", "Default system. ", "--max-new-tokens", MAX_NEW, "--json",
    )  # fmt: skip
    assert _json_lines(alone) == [results[1]]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--molecule", "C1CC(", "--question", "q"], "cannot parse SMILES 'C1CC('"),
        (["--molecule", "", "--question", "q"], "SMILES is empty"),
        (["--protein", "", "--question", "q"], "protein sequence is empty"),
        (["--protein", "MKT-AY1", "--question", "q"], "'-' at 4, '1' at 7"),
        (["--protein", "M" * 1023, "--question", "q"], "1023 residues, more than the 1022"),
        (["--molecule", "CCO"], "no question"),
        (["--molecule", "CCO", "--question", "  "], "no question"),
        (["--question", "q", "--batch", "x.jsonl"], "--batch reads every request from the file"),
        (["--question", "q", "--max-new-tokens", "0"], "--max-new-tokens must be at least 1"),
    ],
    ids=["smiles", "empty-smiles", "empty-protein", "not-amino-acids", "too-long", "no-question", "blank-question",
         "batch-and-question", "max-new-tokens"],
)  # fmt: skip
def test_bad_requests_fail_with_one_clear_line(files, capsys, argv, message):
    code, out, err = _run(capsys, "--model", str(files["model"]), *argv)
    assert code == 2 and out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"question": "q", "molecule": "CCO"}\n{"question": "q", "molecule": "CCO"\n',
            "line 2: not valid JSON",
        ),
        ('\n{"molecule": "CCO"}\n', "line 2: a request needs a 'question' string"),
        ('{"question": "q", "protein": "MKTX*Y"}\n', "line 1: protein sequence"),
        ('{"question": "q", "inputs": [{"smiles": "CCO"}]}\n', "line 1: each entry of 'inputs'"),
        ('{"question": "q", "molecule": "C1CC("}\n', "line 1: cannot parse SMILES"),
        (b'{"question": "caf\xe9"}\n', "line 1: not UTF-8 text"),
        ('{"question": "q", "on_too_long": "cut"}\n', "line 1: 'on_too_long' must be"),
    ],
    ids=[
        "bad-json",
        "no-question",
        "bad-protein",
        "bad-inputs",
        "bad-smiles",
        "not-utf8",
        "bad-mode",
    ],
)
def test_bad_batch_lines_name_the_line(files, capsys, tmp_path, content, message):
    batch_file = tmp_path / "requests.jsonl"
    batch_file.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, out, err = _run(
        capsys,
        "--model",
        str(files["model"]),
        "--batch",
        str(batch_file),
        "--max-new-tokens",
        MAX_NEW,
    )
    assert code == 1, err
    assert f"error: {batch_file} {message}" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [("\n\n", "has no requests"), (b"\x00\x01binary\n", "is binary"), ("", "has no requests")],
    ids=["blank-file", "binary-file", "empty-file"],
)
def test_unusable_batch_files_fail_whole(files, capsys, tmp_path, content, message):
    batch_file = tmp_path / "requests.jsonl"
    batch_file.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, out, err = _run(capsys, "--model", str(files["model"]), "--batch", str(batch_file))
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_mixed_batch_answers_good_lines_and_reports_bad_ones_in_place(files, capsys, tmp_path):
    good_molecule = {"question": "Please describe the molecule.", "molecule": ASPIRIN}
    good_protein = {"question": "What does it do?", "protein": PEPTIDE}
    lines = [
        json.dumps(good_molecule),
        '{"question": "broken", ',
        json.dumps({"question": "q", "molecule": "CCO", "colour": "red"}),
        json.dumps({"question": "q", "molecule": "C1CC("}),
        "",
        json.dumps({"question": "q", "protein": "MKT-AY1"}),
        json.dumps({"question": "q", "protein": "M" * 1100}),
        json.dumps({"question": "hello " * 2100}),
        json.dumps(good_protein),
    ]
    batch_file = tmp_path / "mixed.jsonl"
    batch_file.write_text("\n".join(lines) + "\n")
    argv = ["--model", str(files["model"]), "--max-new-tokens", MAX_NEW]
    code, out, err = _run(capsys, *argv, "--batch", str(batch_file), "--json", "--batch-size", "2")
    assert code == 1
    printed = _json_lines(out)
    assert len(printed) == 8  # one object per non-blank line, in file order
    errors = {p["error"]["line"]: p["error"]["message"] for p in printed if "error" in p}
    assert sorted(errors) == [2, 3, 4, 6, 7, 8]
    assert "not valid JSON" in errors[2]
    assert "unknown request field(s) ['colour']" in errors[3]
    assert "cannot parse SMILES 'C1CC('" in errors[4]
    assert "'-' at 4, '1' at 7" in errors[6]
    assert (
        "1100 residues, more than the 1022" in errors[7]
        and '"on_too_long": "truncate"' in errors[7]
    )
    assert "positions" in errors[8] and "exceed the model's 2048" in errors[8]
    assert "error" not in printed[0] and "error" not in printed[7]
    for line, request in ((printed[0], good_molecule), (printed[7], good_protein)):
        inputs = (
            ["--molecule", request["molecule"]]
            if "molecule" in request
            else ["--protein", request["protein"]]
        )
        _, alone, _ = _run(capsys, *argv, *inputs, "--question", request["question"], "--json")
        assert _json_lines(alone) == [line]  # the answer it gets alone
    for number in errors:
        assert f"line {number}: " in err

    code, plain, err = _run(capsys, *argv, "--batch", str(batch_file))
    assert code == 1
    assert [line.split("]")[0] for line in plain.splitlines()] == ["[1", "[9"]
    assert err.count("error: ") == 6 and "Traceback" not in err


class _RecordingModel:
    """The real facade; each `generate` call records its requests and what was printed before it."""

    def __init__(self, real, capsys):
        self._real, self._capsys = real, capsys
        self.calls: list[tuple[list[str], str]] = []
        self.printed = ""

    def __getattr__(self, name):
        return getattr(self._real, name)

    def generate(self, requests, **options):
        self.printed += self._capsys.readouterr().out
        self.calls.append(([r.question for r in requests], self.printed))
        return self._real.generate(requests, **options)


def test_a_batch_is_printed_chunk_by_chunk_and_only_a_failing_chunk_is_retried(
    files, capsys, tmp_path, monkeypatch
):
    import biomedgpt_tools.cli.generate as generate_cli

    recorder = {}
    real_load = generate_cli.load_biomedgpt

    def load(args):
        recorder["model"] = _RecordingModel(real_load(args), capsys)
        return recorder["model"]

    monkeypatch.setattr(generate_cli, "load_biomedgpt", load)
    # as for a model whose context only `generate` knows: the over-long prompt reaches the model
    monkeypatch.setattr(generate_cli, "check_against_model", lambda *args: None)
    questions = ["q1?", "q2?", "q3?", "hello " * 2100, "q5?"]
    batch_file = tmp_path / "chunks.jsonl"
    batch_file.write_text(
        "".join(json.dumps({"question": q, "molecule": ASPIRIN}) + "\n" for q in questions)
    )
    code = main(["generate", "--model", str(files["model"]), "--batch", str(batch_file), "--json",
                 "--batch-size", "2", "--max-new-tokens", MAX_NEW])  # fmt: skip
    model = recorder["model"]
    out = model.printed + capsys.readouterr().out
    assert code == 1
    asked = [[q[:6] for q in chunk] for chunk, _ in model.calls]
    # chunk 1 once; chunk 2 refused, then its lines alone; chunk 3: nothing asked twice
    assert asked == [["q1?", "q2?"], ["q3?", "hello "], ["q3?"], ["hello "], ["q5?"]]
    before_second_chunk = _json_lines(model.calls[1][1])
    assert len(before_second_chunk) == 2 and all("text" in p for p in before_second_chunk)
    printed = _json_lines(out)
    assert [("error" in p) for p in printed] == [False, False, False, True, False]
    assert (
        printed[3]["error"]["line"] == 4 and "exceed the model's" in printed[3]["error"]["message"]
    )


def test_on_too_long_truncate_reads_the_first_1022_residues_as_the_reference(
    files, capsys, tmp_path
):
    from transformers import EsmTokenizer

    from biomedgpt_tools.model.protein_sequence import protein_token_ids

    rng = __import__("random").Random(7)
    long_protein = "".join(rng.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(1100))
    # the reference: EsmTokenizer(max_length=1024, truncation=True) keeps <cls>, 1022, <eos>
    reference = EsmTokenizer.from_pretrained(str(files["tmp"] / "esm"))
    reference_ids = reference(long_protein, max_length=1024, truncation=True)["input_ids"]
    assert reference_ids == protein_token_ids(long_protein[:1022])

    argv = [
        "--model",
        str(files["model"]),
        "--max-new-tokens",
        MAX_NEW,
        "--json",
        "--question",
        "q",
    ]
    code, out, err = _run(capsys, *argv, "--protein", long_protein)
    assert code == 2 and "1100 residues" in err and "--on-too-long truncate" in err
    code, truncated, err = _run(
        capsys, *argv, "--protein", long_protein, "--on-too-long", "truncate"
    )
    assert code == 0, err
    assert truncation_note(1100, "protein 1") in err
    code, first_1022, _ = _run(capsys, *argv, "--protein", long_protein[:1022])
    answer = _json_lines(truncated)[0]
    assert answer["notes"] == [truncation_note(1100, "protein 1")]  # the wording ProteinQA uses
    del answer["notes"]
    assert [answer] == _json_lines(first_1022)

    # per line: "on_too_long" overrides the command's setting
    batch_file = tmp_path / "long.jsonl"
    batch_file.write_text(
        json.dumps({"question": "q", "protein": long_protein, "on_too_long": "truncate"}) + "\n"
        + json.dumps({"question": "q", "protein": long_protein}) + "\n"
    )  # fmt: skip
    code, out, _ = _run(capsys, *argv[:5], "--batch", str(batch_file))
    printed = _json_lines(out)
    assert code == 1 and printed[1]["error"]["line"] == 2
    assert printed[0]["token_ids"] == answer["token_ids"] and printed[0]["notes"]


def test_model_arguments_are_checked(files, capsys, tmp_path):
    cases = [
        (["--model", str(tmp_path / "absent")], "model folder"),
        (["--model", str(tmp_path)], "has no config.json"),
        (files["official"][:4], "--official needs --esm-dir as well"),
        (["--model", str(files["model"]), *files["official"]], "not both"),
        ([], "no model"),
        (["--official", str(tmp_path / "absent.pth"), *files["official"][2:]], "does not exist"),
        (["--model", str(files["model"]), "--batch", str(tmp_path / "absent.jsonl")], "batch file"),
    ]
    for argv, message in cases:
        code, _, err = _run(capsys, *argv, *(["--question", "q"] if "--batch" not in argv else []))
        assert code == 2 and message in err, (argv, err)


def _rename_proj_prot(state_dict):
    state_dict["proj_prot.weights"] = state_dict.pop("proj_prot.weight")


def _remove_a_layer_norm(state_dict):
    del state_dict["llm.model.layers.1.post_attention_layernorm.weight"]


@pytest.mark.parametrize(
    ("edit", "messages"),
    [
        (
            _rename_proj_prot,
            ["1 missing key(s): proj_prot.weight;", "1 unexpected key(s): proj_prot.weights."],
        ),
        (_remove_a_layer_norm, ["1 missing key(s): llm.model.layers.1.post_attention_layernorm"]),
    ],
    ids=["renamed", "removed"],
)
def test_damaged_official_file_fails_naming_the_key(files, capsys, tmp_path, edit, messages):
    broken = tmp_path / "broken.pth"
    state_dict = torch.load(files["official"][1], weights_only=True)
    edit(state_dict)
    torch.save(state_dict, broken)
    code, out, err = _run(
        capsys, "--official", str(broken), *files["official"][2:], "--question", "q", "--json"
    )
    assert code == 2 and out == ""
    assert all(message in err for message in messages), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_console_entry_point_prints_no_traceback(tmp_path):
    """The real entry point, in a fresh process: bad input before any model is touched."""
    completed = subprocess.run(
        [sys.executable, "-m", "biomedgpt_tools", "generate", "--model", str(tmp_path / "absent"), "--question", "q"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 2
    assert completed.stderr.startswith("biomedgpt generate: error: model folder")
    assert "Traceback" not in completed.stderr


def test_dtype_accepts_torch_names(files, capsys):
    argv = [
        "--model",
        str(files["model"]),
        "--molecule",
        "CCO",
        "--question",
        "q",
        "--max-new-tokens",
        MAX_NEW,
        "--json",
    ]
    answers = {}
    for dtype in ("fp32", "float32", "bf16", "bfloat16"):
        code, out, err = _run(capsys, *argv, "--dtype", dtype)
        assert code == 0, err
        answers[dtype] = _json_lines(out)[0]
    assert answers["fp32"] == answers["float32"] and answers["bf16"] == answers["bfloat16"]
    with pytest.raises(SystemExit) as exited:  # argparse refuses it, naming the choices
        _run(capsys, *argv, "--dtype", "float64")
    assert exited.value.code == 2 and "invalid choice: 'float64'" in capsys.readouterr().err

"""ChEBI-20 loading (the `\\\\` quirk) and joining predictions to references by SMILES."""

from __future__ import annotations

import pytest

from evals.loaders.chebi20 import chebi20_items, load_chebi20, unescape_smiles
from evals.loaders.errors import DataFormatError
from evals.metrics.caption_scoring import CaptionPrediction, join_by_smiles


def test_unescape_turns_doubled_backslashes_into_single_ones():
    assert unescape_smiles("C/C=C\\\\C") == "C/C=C\\C"
    assert unescape_smiles("C/C=C\\C") == "C/C=C\\C"  # already single: unchanged


def test_synthetic_split_is_read_unquoted_and_unescaped(tmp_path):
    path = tmp_path / "test.txt"
    path.write_text(
        "CID\tSMILES\tdescription\n"
        '1\tC/C=C\\\\C\tThe molecule is "quoted" and has a tab-free description.\n'
        "2\tCCO\tThe molecule is ethanol.\n"
    )
    records = load_chebi20(path)
    assert [r.smiles for r in records] == ["C/C=C\\C", "CCO"]
    assert records[0].description == 'The molecule is "quoted" and has a tab-free description.'
    items = chebi20_items(path)
    assert items[0].inputs[0].kind == "molecule" and items[0].inputs[0].value == "C/C=C\\C"
    assert items[0].question == "Please describe the molecule."


@pytest.mark.needs_shared_data
def test_shared_test_split_has_3300_rows_and_no_escaped_backslash_left(shared_data):
    records = load_chebi20(shared_data / "chebi20" / "test.txt")
    assert len(records) == 3300
    assert not any("\\\\" in r.smiles for r in records)
    assert sum("\\" in r.smiles for r in records) == 484


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("SMILES\tdescription\nC\tm\n", "expected the header"),
        ("CID\tSMILES\tdescription\n1\tC\n", ":2: expected 3 tab-separated fields"),
        ("CID\tSMILES\tdescription\n1\tC\ta\n2\tC\tb\n", "appears twice"),
    ],
)
def test_malformed_files_name_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=message):
        load_chebi20(path)


def test_join_uses_smiles_not_row_order():
    references = {"C": "methane", "CC": "ethane", "CCC": "propane"}
    predictions = [
        CaptionPrediction("CCC", "", "out-propane"),
        CaptionPrediction("C", "", "out-methane"),
    ]
    assert join_by_smiles(predictions, references, "refs") == [
        ("propane", "out-propane"),
        ("methane", "out-methane"),
    ]


def test_join_refuses_unknown_and_repeated_smiles():
    with pytest.raises(DataFormatError, match="not in refs"):
        join_by_smiles([CaptionPrediction("N", "", "x")], {"C": "m"}, "refs")
    with pytest.raises(DataFormatError, match="predicted twice"):
        join_by_smiles([CaptionPrediction("C", "", "x")] * 2, {"C": "m"}, "refs")

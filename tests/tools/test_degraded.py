"""When a service or the store is down, the tools degrade with a message instead of crashing."""

from __future__ import annotations

from biomedgpt_tools.testing.resolver_server import Fault
from tests.local_services import make_toolkit


def _invoke(tool, **args):
    return tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": args})


def test_pubchem_down_is_a_readable_error_for_names_and_no_obstacle_for_smiles(
    toolkit, resolver_env
):
    molecule_qa = toolkit.get_tools()[0]
    resolver_env.inject("pubchem", Fault.status(503), Fault.status(503))  # one request, one retry
    by_name = _invoke(molecule_qa, molecule="acetic acid")  # not in the bundled snapshot
    assert resolver_env.pending_faults("pubchem") == 0
    assert by_name.status == "error"
    assert "pass a SMILES string instead" in by_name.content

    resolver_env.inject("pubchem", Fault.status(503), Fault.status(503))
    by_smiles = _invoke(molecule_qa, molecule="CC(C(=O)O)O")  # lactic acid, not in the snapshot
    assert resolver_env.pending_faults("pubchem") == 0
    assert by_smiles.status == "success"
    assert by_smiles.artifact.answered_by == "model"
    assert by_smiles.artifact.entity_key == "JVTAAEKCZFNVCJ-UHFFFAOYSA-N"  # computed with RDKit
    assert "PubChem could not be asked" in by_smiles.content


def test_a_new_smiles_not_in_pubchem_is_read_as_given(toolkit):
    message = _invoke(toolkit.get_tools()[0], molecule="OCCCCCCCCCCc1ccccc1")
    assert message.status == "success"
    assert message.artifact.record.cid is None and message.artifact.record.formula == "C16H26O"
    assert "PubChem has no compound with this structure" in message.content


def test_store_unreachable_still_answers_with_a_note(resolver_env, tiny_model):
    toolkit = make_toolkit(tiny_model, chroma_url="http://127.0.0.1:9")  # nothing listens there
    try:
        message = _invoke(toolkit.get_tools()[0], molecule="aspirin")
    finally:
        toolkit.close()
    assert message.status == "success"
    assert message.artifact.answered_by == "model" and message.artifact.annotation_id is None
    assert (
        "memory unavailable: cannot reach the Chroma server at http://127.0.0.1:9"
        in message.content
    )


def test_a_protein_longer_than_the_encoder_reads_is_cut_with_a_note(toolkit):
    sequence = ("MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVV" * 16)[
        :1100
    ]
    message = _invoke(toolkit.get_tools()[1], protein=sequence)
    assert message.status == "success", message.content
    assert message.artifact.answered_by == "model"
    assert "1100 residues; BioMedGPT read the first 1022" in message.content
    assert message.artifact.record.length == 1100

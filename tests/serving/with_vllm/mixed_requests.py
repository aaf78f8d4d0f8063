"""Mixed requests for the vLLM tests: molecules, proteins, both, and two-turn conversations."""

from __future__ import annotations

import torch

from biomedgpt_tools.model.api import BioMedGPT
from biomedgpt_tools.model.modeling_biomedgpt import build_multimodal_batch
from biomedgpt_tools.model.prompt import Molecule, Protein, Turn
from biomedgpt_tools.model.requests import GenerationRequest
from biomedgpt_tools.serving.engine import EngineRequest

ASPIRIN = "CC(=O)OC1=CC=CC=C1C(=O)O"
CAFFEINE = "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"
ETHANOL = "CCO"
GLYCINE = "NCC(=O)O"
INSULIN_B = "FVNQHLCGSHLVEALYLVCGERGFFYTPKT"
UBIQUITIN = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"
SHORT_PEPTIDE = "MKTAYIAKQR"


def mixed_requests() -> list[GenerationRequest]:
    """14 requests of different lengths and kinds, in no particular order."""
    return [
        GenerationRequest("Please describe the molecule.", [Molecule(ASPIRIN)]),
        GenerationRequest("What is the function of this protein?", [Protein(UBIQUITIN)]),
        GenerationRequest(
            "Does this molecule bind to this protein?", [Molecule(CAFFEINE), Protein(INSULIN_B)]
        ),
        GenerationRequest("Is the compound toxic to the liver?", [Molecule(ETHANOL)]),
        GenerationRequest(
            "What is the subcellular location of this protein?", [Protein(SHORT_PEPTIDE)]
        ),
        GenerationRequest("How soluble is it in water?", [Molecule(GLYCINE)]),
        GenerationRequest("Compare these two molecules.", [Molecule(ASPIRIN), Molecule(CAFFEINE)]),
        GenerationRequest(
            "Which enzymes metabolize this drug?", [Protein(INSULIN_B), Molecule(ASPIRIN)]
        ),
        GenerationRequest(
            "What is the protein family that this protein belongs to?", [Protein(INSULIN_B)]
        ),
        GenerationRequest("Describe its mechanism of action.", [Molecule(CAFFEINE)]),
        GenerationRequest(
            "Is it toxic?",
            history=[
                Turn(
                    "Please describe the molecule.", [Molecule(ETHANOL)], "It is a primary alcohol."
                )
            ],
        ),
        GenerationRequest(
            "Where is it located?",
            history=[Turn("What is it?", [Protein(UBIQUITIN)], "A small regulatory protein.")],
        ),
        GenerationRequest(
            "And does it bind this protein?",
            [Protein(SHORT_PEPTIDE)],
            history=[Turn("What is this molecule?", [Molecule(GLYCINE)], "An alpha-amino acid.")],
        ),
        GenerationRequest("The answer is yes or no?"),
    ]


@torch.inference_mode()
def embed_request(model: BioMedGPT, request: GenerationRequest) -> torch.Tensor:
    """The LM input embeddings of one request, soft tokens spliced in, (T, C) on the CPU."""
    batch = build_multimodal_batch(
        [request.conversation()], model.segments, int(model.model.config.text_config.pad_token_id)
    )
    embeds = model.model.embed_batch(batch)  # (1, T, C)
    return embeds[0].cpu()


def engine_request(
    model: BioMedGPT, request: GenerationRequest, request_id: str, max_new_tokens: int,
    stop_token_ids: tuple[int, ...] | None = None,
) -> EngineRequest:  # fmt: skip
    eos = int(model.model.config.text_config.eos_token_id)
    return EngineRequest(
        request_id=request_id,
        prompt_embeds=embed_request(model, request),
        max_new_tokens=max_new_tokens,
        stop_token_ids=(eos,) if stop_token_ids is None else stop_token_ids,
    )

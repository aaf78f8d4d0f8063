"""BioMedGPT-10B in torch/transformers: encoders, prompt, model, generation, the `BioMedGPT` facade.

Names are exported lazily so that `biomedgpt_tools.model.protein_sequence` and
`molecule_graph` (input validation for the CLI and tools) never pay for importing
torch and transformers.
"""

from __future__ import annotations

from biomedgpt_tools.lazy_exports import lazy_export

_EXPORTS = {
    "BioMedGPT": "api",
    "GenerationRequest": "requests",
    "GenerationResult": "requests",
    "ModelIdentity": "requests",
    "BioMedGPTConfig": "configuration_biomedgpt",
    "MoleculeEncoderConfig": "configuration_biomedgpt",
    "BioMedGPTForConditionalGeneration": "modeling_biomedgpt",
    "MultimodalBatch": "modeling_biomedgpt",
    "build_multimodal_batch": "modeling_biomedgpt",
    "GINMoleculeEncoder": "molecule_encoder",
    "GenerationOptions": "generation",
    "generate_batch": "generation",
    "Conversation": "prompt",
    "Turn": "prompt",
    "Molecule": "prompt",
    "Protein": "prompt",
    "SYSTEM_TEXT": "prompt",
    "render_prompt": "prompt",
    "build_tiny_model": "tiny",
    "build_tiny_biomedgpt": "tiny",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    return lazy_export(__name__, _EXPORTS, name)

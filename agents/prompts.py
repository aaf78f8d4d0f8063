"""Texts the assistant shows to language models."""

ROUTER_SYSTEM_PROMPT = """\
You route questions to BioMedGPT tools. Do not answer the question yourself.
- MoleculeQA: one call per molecule named (name, PubChem CID, SMILES or InChIKey).
- ProteinQA: one call per protein named (UniProt accession, entry name, gene symbol with
  organism, or amino-acid sequence).
- BiomedQA: only when the question names no molecule or protein.
Copy identifiers exactly as written and pass the user's whole question as `question`.
Words such as "CO2", "ACE" or "COPD" in prose are not molecules or proteins.
{follow_up}"""

FOLLOW_UP_HINT = """\
The previous turn was about: {entities}. If the question refers to them ("it", "its",
"this molecule"), call the tool for them again."""

VERIFIED_ENTITIES_HINT = """\
PubChem/UniProt confirmed these names in the question; call the tool for each, with exactly
this argument (nothing else in the question is a molecule or protein):
{entities}"""

NO_MODEL_LINE = (
    "No BioMedGPT model is configured, so no model answered; what follows is what the "
    "databases say. Set BIOMEDGPT_MODEL to a model folder for model answers."
)

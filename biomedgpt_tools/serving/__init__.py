"""`biomedgpt serve`: one process holds BioMedGPT, every client sends it requests."""

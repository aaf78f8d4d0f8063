"""Recipes that reproduce BioMedGPT-10B's three training stages (run: `python -m training`).

Not an installed package: run from the repository root. Depends on `biomedgpt_tools`, never
the reverse.
"""

"""Evaluation harness for BioMedGPT-10B: the paper's tables, computed as the field computes them.

Run from the repository root: `python -m evals caption|run|report ...` (not an installed
package; `evals` is already the import name of another PyPI project).
"""

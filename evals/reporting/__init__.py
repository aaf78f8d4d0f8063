"""`python -m evals report`: our numbers beside the paper's published ones."""

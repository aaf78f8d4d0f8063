"""Baselines with no language model, set beside the model's numbers."""

"""Readers of the official dataset files, one module per dataset."""

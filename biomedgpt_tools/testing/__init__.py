"""Helpers that write files for tests and benchmarks (never imported by the library itself)."""

"""Helpers for tests and benchmarks: checkpoint writers, local servers, machine description (never imported by the library itself)."""

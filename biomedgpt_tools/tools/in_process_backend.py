"""The in-process backend moved to biomedgpt_tools.inference.in_process; these names stay for callers."""

from biomedgpt_tools.inference.in_process import InProcessBackend

__all__ = ["InProcessBackend"]

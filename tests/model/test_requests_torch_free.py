"""The request/answer types and the inference boundary load without torch (issue 14.2).

A client of a model server builds `GenerationRequest`s and reads `GenerationResult`s; neither
the types nor the backends may pull torch in, so the check runs in a fresh interpreter.
"""

import subprocess
import sys

_PROBE = """
import sys
import biomedgpt_tools.model.requests
import biomedgpt_tools.inference
import biomedgpt_tools.inference.remote
import biomedgpt_tools.inference.in_process
assert "torch" not in sys.modules, sorted(m for m in sys.modules if m.startswith("torch"))
"""


def test_requests_and_inference_import_no_torch():
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr

"""Bulk annotation and the services reach the model without importing LangChain (issue 14.1)."""

import subprocess
import sys

_PROBE = """
import sys
import biomedgpt_tools.annotation.bulk
import biomedgpt_tools.services.biomedgpt_services
import biomedgpt_tools.services.backend_choice
import evals.tasks.model
loaded = sorted(m for m in sys.modules if m.startswith("langchain"))
assert not loaded, loaded
"""


def test_annotation_and_services_import_no_langchain():
    result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

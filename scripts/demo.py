"""`make demo`: the research assistant end to end, offline, in well under two minutes.

Resolvers answer from the bundled snapshot (BIOMEDGPT_OFFLINE=1), memory is the embedded
Chroma store, and the model is BIOMEDGPT_MODEL, else the small demo model if
`python -m training demo-model` has built it, else none (and the answers say so). Each run
starts from a fresh home folder (store, thread database, resolver cache) so the "computed
now" and "from memory" turns show the same way every time; pass --home to keep one.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # agents/ and training/ are apps run from the repository root

# Phrasings the demo model was trained on (training/demo_facts.py): it is a toy that knows
# the bundled snapshot's facts, so other questions get unreliable answers, as it says itself.
QUESTIONS = (
    "Please describe the molecule CC(=O)OC1=CC=CC=C1C(=O)O.",
    "and what is its molecular weight?",
    "What is the molecular formula of ibuprofen?",
    "What is the subcellular location of P0CG47?",
    "Please describe the molecule CC(=O)OC1=CC=CC=C1C(=O)O.",
    "Can I trust your answers?",
)


MAX_NEW_TOKENS = 96


def find_model() -> tuple[str | None, str]:
    """(model folder or None, how it was chosen), decided before the home folder changes."""
    configured = os.environ.get("BIOMEDGPT_MODEL", "").strip()
    if configured:
        return configured, "BIOMEDGPT_MODEL"
    try:
        from training.demo_model import default_demo_dir
    except ImportError:
        return None, "no model (training/ is not importable)"
    folder = default_demo_dir()
    if (folder / "config.json").is_file():
        return str(folder), "the demo model from `python -m training demo-model`"
    return None, f"no model: BIOMEDGPT_MODEL is unset and no demo model is built at {folder}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--home",
        type=Path,
        help="home folder for store, threads and cache (default: a fresh temp folder)",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    model, why = find_model()
    home = args.home or Path(tempfile.mkdtemp(prefix="biomedgpt-demo-"))
    os.environ.update(
        {
            "BIOMEDGPT_OFFLINE": "1",
            "BIOMEDGPT_HOME": str(home),
            "BIOMEDGPT_CACHE_DIR": str(home / "cache"),
            "HF_HUB_OFFLINE": "1",
        }
    )
    if model:
        os.environ["BIOMEDGPT_MODEL"] = model
    else:
        os.environ.pop("BIOMEDGPT_MODEL", None)
    print(f"Model: {model or 'none'} ({why})")
    print(f"Home (store, threads, cache): {home}; resolvers: bundled offline snapshot\n")

    from agents.context import AssistantContext
    from agents.session import AssistantSession
    from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit

    # The demo model answers in a few words; a cap keeps a model that rambles within the budget.
    toolkit = BioMedGPTToolkit.from_env(max_new_tokens=MAX_NEW_TOKENS)
    session = AssistantSession(thread_id="demo", context=AssistantContext(toolkit=toolkit))

    def show_step(event: dict) -> None:
        payload = event["payload"]
        if event["mode"] == "custom" and "step" in payload:
            detail = {k: v for k, v in payload.items() if k != "step"}
            print(f"   . {payload['step']}: {detail}", flush=True)

    for number, question in enumerate(QUESTIONS, start=1):
        turn_started = time.perf_counter()
        print(f"[{number}] you> {question}")
        outcome = session.ask(question, show_step)
        if outcome.interrupt is not None:  # the snapshot has no ambiguous names; keep going anyway
            outcome = session.resume(1, show_step)
        print(f"   router: {outcome.router}; {time.perf_counter() - turn_started:.1f} s")
        print("   " + outcome.answer.replace("\n", "\n   ") + "\n")

    toolkit.close()
    total = time.perf_counter() - started
    print(f"Demo finished in {total:.1f} s (target: under 120 s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Make sure nltk finds WordNet 3.0 before METEOR needs it.

nltk's default reaction to a missing corpus is a long message that asks for
`nltk.download`, which cannot work offline. `make setup` copies WordNet from Debian's
packages (scripts/install_wordnet.py); this module turns its absence into one clear error.
"""

from __future__ import annotations

import functools

SETUP_HINT = (
    "WordNet 3.0 (needed by METEOR) was not found by nltk; run `make setup`, or "
    "`apt-get install -y wordnet-base wordnet-sense-index && "
    ".venv/bin/python scripts/install_wordnet.py --dest .venv/nltk_data/corpora/wordnet`"
)


class WordNetMissingError(RuntimeError):
    """WordNet is not installed where nltk looks for it."""


@functools.cache
def require_wordnet() -> None:
    """Load nltk's WordNet once; raise WordNetMissingError with the way out if it is absent."""
    import warnings

    import nltk.data

    try:
        nltk.data.find("corpora/wordnet")
    except LookupError:
        raise WordNetMissingError(SETUP_HINT) from None
    from nltk.corpus import wordnet

    try:
        with warnings.catch_warnings():
            # Open Multilingual WordNet is not installed and METEOR does not use it.
            warnings.filterwarnings(
                "ignore", message="The multilingual functions are not available"
            )
            wordnet.ensure_loaded()
    except (LookupError, OSError) as error:
        raise WordNetMissingError(f"{SETUP_HINT} (nltk said: {str(error).strip()[:200]})") from None

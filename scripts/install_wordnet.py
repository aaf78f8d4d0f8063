"""Install WordNet 3.0 for nltk (METEOR) from Debian's packages, offline.

`nltk.download("wordnet")` needs the internet. Debian ships the same WordNet 3.0 database
in `wordnet-base` and `wordnet-sense-index` (/usr/share/wordnet) but lacks the `lexnames`
file nltk's reader opens first, so this script writes it from the facts of the
lexnames(5WN) man page. Files are copied, never linked: nltk 3.10 refuses symlinks and
hard links that point outside its data roots.

    python scripts/install_wordnet.py --dest .venv/nltk_data/corpora/wordnet

Running it again is harmless: files already identical are left alone.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
from pathlib import Path

DEBIAN_WORDNET_DIR = Path("/usr/share/wordnet")

# Every file nltk's WordNetCorpusReader opens, lexnames aside (written below).
WORDNET_FILES = (
    "cntlist.rev",
    "index.sense",
    "index.adj",
    "index.adv",
    "index.noun",
    "index.verb",
    "data.adj",
    "data.adv",
    "data.noun",
    "data.verb",
    "adj.exc",
    "adv.exc",
    "noun.exc",
    "verb.exc",
)

# lexnames(5WN): the 45 lexicographer files in file-number order. The syntactic category
# (third column) is 1 noun, 2 verb, 3 adjective, 4 adverb, read off the name's prefix.
LEXICOGRAPHER_FILES = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal",
    "noun.artifact", "noun.attribute", "noun.body", "noun.cognition",
    "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group",
    "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon",
    "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation",
    "noun.shape", "noun.state", "noun.substance", "noun.time", "verb.body",
    "verb.change", "verb.cognition", "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather",
    "adj.ppl",
)  # fmt: skip
SYNTACTIC_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}

APT_HINT = "apt-get install -y wordnet-base wordnet-sense-index (or run `make setup`)"


def lexnames_text() -> str:
    """The `lexnames` file: `NN<TAB>name<TAB>category`, one line per lexicographer file."""
    lines = []
    for number, name in enumerate(LEXICOGRAPHER_FILES):
        category = SYNTACTIC_CATEGORY[name.split(".", 1)[0]]
        lines.append(f"{number:02d}\t{name}\t{category}")
    return "\n".join(lines) + "\n"


def install_wordnet(dest: Path, source: Path = DEBIAN_WORDNET_DIR) -> list[str]:
    """Copy WordNet into `dest` and write `lexnames`; returns the names of files changed."""
    missing = [name for name in WORDNET_FILES if not (source / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"WordNet files missing from {source}: {', '.join(missing)}; install them with "
            f"{APT_HINT}"
        )
    dest.mkdir(parents=True, exist_ok=True)
    changed = []
    for name in WORDNET_FILES:
        target = dest / name
        if target.is_symlink():
            target.unlink()  # an old symlinked install: nltk refuses it, replace with a copy
        if target.is_file() and filecmp.cmp(source / name, target, shallow=False):
            continue
        shutil.copyfile(source / name, target)
        changed.append(name)
    lexnames = dest / "lexnames"
    text = lexnames_text()
    if lexnames.is_symlink():
        lexnames.unlink()
    if not lexnames.is_file() or lexnames.read_text() != text:
        lexnames.write_text(text)
        changed.append("lexnames")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dest", type=Path, required=True,
        help="target folder, e.g. .venv/nltk_data/corpora/wordnet",
    )  # fmt: skip
    parser.add_argument(
        "--source", type=Path, default=DEBIAN_WORDNET_DIR,
        help=f"Debian's WordNet folder (default {DEBIAN_WORDNET_DIR})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        changed = install_wordnet(args.dest, args.source)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    state = f"updated {len(changed)} file(s)" if changed else "already up to date"
    print(f"WordNet 3.0 in {args.dest}: {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

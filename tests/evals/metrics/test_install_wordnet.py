"""scripts/install_wordnet.py: WordNet 3.0 copied from Debian's packages, plus `lexnames`."""

from __future__ import annotations

import gzip
import importlib.util
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
DEBIAN_WORDNET = Path("/usr/share/wordnet")
LEXNAMES_MAN_PAGE = Path("/usr/share/man/man5/lexnames.5WN.gz")


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "install_wordnet", REPO_ROOT / "scripts" / "install_wordnet.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


install_wordnet = _load_script()


def test_lexnames_has_45_tab_separated_lines_in_file_number_order():
    lines = install_wordnet.lexnames_text().splitlines()
    assert len(lines) == 45
    for number, line in enumerate(lines):
        index, name, category = line.split("\t")
        assert index == f"{number:02d}"
        assert line == line.rstrip()
        assert int(category) == {"noun": 1, "verb": 2, "adj": 3, "adv": 4}[name.split(".")[0]]
    assert lines[0] == "00\tadj.all\t3"
    assert lines[18] == "18\tnoun.person\t1"  # the man page has trailing spaces on this name
    assert lines[44] == "44\tadj.ppl\t3"


@pytest.mark.skipif(
    not LEXNAMES_MAN_PAGE.is_file(), reason="wordnet-base's lexnames(5WN) man page not installed"
)
def test_lexnames_matches_the_man_page_table():
    text = gzip.decompress(LEXNAMES_MAN_PAGE.read_bytes()).decode()
    rows = re.findall(r"^(\d\d)\t([a-z]+\.[A-Za-z]+) *\t", text, flags=re.M)
    assert len(rows) == 45
    ours = [line.split("\t")[:2] for line in install_wordnet.lexnames_text().splitlines()]
    assert ours == [list(row) for row in rows]


def _fake_debian_folder(root: Path) -> Path:
    root.mkdir()
    for name in install_wordnet.WORDNET_FILES:
        (root / name).write_text(f"contents of {name}\n")
    return root


def test_install_copies_files_and_is_idempotent(tmp_path):
    source = _fake_debian_folder(tmp_path / "debian")
    dest = tmp_path / "nltk_data" / "corpora" / "wordnet"
    changed = install_wordnet.install_wordnet(dest, source)
    assert sorted(changed) == sorted([*install_wordnet.WORDNET_FILES, "lexnames"])
    for name in install_wordnet.WORDNET_FILES:
        target = dest / name
        assert not target.is_symlink() and target.stat().st_nlink == 1  # copies, no links
        assert target.read_text() == f"contents of {name}\n"
    assert install_wordnet.install_wordnet(dest, source) == []  # second run: nothing to do
    (source / "data.noun").write_text("updated\n")
    assert install_wordnet.install_wordnet(dest, source) == ["data.noun"]


def test_install_replaces_an_old_symlinked_install(tmp_path):
    source = _fake_debian_folder(tmp_path / "debian")
    dest = tmp_path / "wordnet"
    dest.mkdir()
    (dest / "data.verb").symlink_to(source / "data.verb")
    install_wordnet.install_wordnet(dest, source)
    assert not (dest / "data.verb").is_symlink()


def test_missing_debian_package_gives_the_apt_command(tmp_path, capsys):
    assert (
        install_wordnet.main(["--dest", str(tmp_path / "out"), "--source", str(tmp_path / "none")])
        == 1
    )
    assert "apt-get install -y wordnet-base wordnet-sense-index" in capsys.readouterr().err


@pytest.mark.skipif(
    not (DEBIAN_WORDNET / "data.noun").is_file(), reason="Debian's wordnet-base is not installed"
)
def test_nltk_reads_the_installed_copy(tmp_path, monkeypatch):
    import nltk.data
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    monkeypatch.setattr(
        nltk.data, "path", [str(tmp_path)]
    )  # nltk only opens files under its data roots
    dest = tmp_path / "corpora" / "wordnet"
    install_wordnet.install_wordnet(dest)
    reader = WordNetCorpusReader(str(dest), None)
    dog = reader.synsets("dog")[0]
    assert dog.name() == "dog.n.01" and dog.lexname() == "noun.animal"

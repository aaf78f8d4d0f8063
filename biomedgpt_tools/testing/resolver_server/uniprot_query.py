"""The subset of UniProt's search syntax the resolvers use, parsed and matched against entries.

Supported: ``field:value`` and ``field:"quoted value"`` terms, bare words, ``AND``/``OR``/``NOT``
(implicit AND between terms), parentheses and ``*`` wildcards. Fields: gene, gene_exact,
organism_id, taxonomy_id, organism_name, taxonomy_name, protein_name, accession, sec_acc, id,
reviewed, ec, family. An unknown field or broken syntax raises QueryError, which the server
turns into UniProt's 400 answer.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable

from .entities import Protein

FIELDS = (
    "gene",
    "gene_exact",
    "organism_id",
    "taxonomy_id",
    "organism_name",
    "taxonomy_name",
    "protein_name",
    "accession",
    "sec_acc",
    "id",
    "reviewed",
    "ec",
    "family",
)

Matcher = Callable[[Protein], bool]


class QueryError(ValueError):
    """A query UniProt would refuse with 400."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lpar>\() | (?P<rpar>\)) |
        (?P<field>[A-Za-z_]+):(?:"(?P<fquoted>[^"]*)"|(?P<fbare>[^\s()"]+)) |
        "(?P<quoted>[^"]*)" |
        (?P<word>[^\s()"]+)
    )""",
    re.VERBOSE,
)


def _tokenize(query: str) -> list[tuple[str, str, str]]:
    tokens = []
    position = 0
    text = query.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise QueryError(f"query syntax error near {text[position : position + 20]!r}")
        position = match.end()
        if match.group("lpar"):
            tokens.append(("(", "", ""))
        elif match.group("rpar"):
            tokens.append((")", "", ""))
        elif match.group("field"):
            value = (
                match.group("fquoted")
                if match.group("fquoted") is not None
                else match.group("fbare")
            )
            tokens.append(("term", match.group("field").lower(), value))
        elif match.group("quoted") is not None:
            tokens.append(("term", "", match.group("quoted")))
        else:
            word = match.group("word")
            if word in ("AND", "OR", "NOT"):
                tokens.append((word, "", ""))
            else:
                tokens.append(("term", "", word))
        while position < len(text) and text[position].isspace():
            position += 1
    if text.count('"') % 2:
        raise QueryError("query has an unbalanced quote")
    return tokens


def _equals(value: str, candidate: str) -> bool:
    value, candidate = value.casefold(), candidate.casefold()
    return fnmatch.fnmatchcase(candidate, value) if "*" in value else candidate == value


def _words(text: str) -> list[str]:
    """Text fields as UniProt's index splits them: on spaces and punctuation, hyphens too
    (protein_name:insulin finds "Insulin-1"); matching ignores case, as UniProt's does."""
    return [w for w in re.split(r"[^0-9A-Za-z]+", text.casefold()) if w]


def _contains_words(value: str, text: str) -> bool:
    """Every word of value appears in text (a word may carry * wildcards)."""
    haystack = _words(text)
    if "*" in value:
        needles = value.casefold().split()
        return all(any(fnmatch.fnmatchcase(w, n) for w in haystack) for n in needles)
    needles = _words(value)
    return bool(needles) and all(n in haystack for n in needles)


def _organism_text(p: Protein) -> str:
    return f"{p.organism} {p.organism_common_name}"


def _term(field: str, value: str) -> Matcher:
    if field and field not in FIELDS:
        raise QueryError(f"'{field}' is not a valid search field")
    if value == "":
        raise QueryError(f"empty value for field '{field or 'default'}'")
    if field == "gene":
        return lambda p: any(_equals(value, g) for g in [*p.gene_names, *p.gene_synonyms])
    if field == "gene_exact":
        return lambda p: any(_equals(value, g) for g in p.gene_names)
    if field in ("organism_id", "taxonomy_id"):
        if not value.isdigit():
            raise QueryError(f"'{field}' filter value has invalid format. It should be a number")
        return lambda p: p.taxon_id == int(value)
    if field in ("organism_name", "taxonomy_name"):
        return lambda p: _contains_words(value, _organism_text(p))
    if field == "protein_name":  # recommended and alternative names, as UniProt searches them
        return lambda p: any(
            _contains_words(value, n) for n in [p.protein_name, *p.alternative_names]
        )
    if field == "accession":
        return lambda p: any(_equals(value, a) for a in [p.accession, *p.secondary_accessions])
    if field == "sec_acc":
        return lambda p: any(_equals(value, a) for a in p.secondary_accessions)
    if field == "id":
        return lambda p: _equals(value, p.entry_name)
    if field == "reviewed":
        if value.lower() not in ("true", "false"):
            raise QueryError("'reviewed' filter value should be true or false")
        wanted = value.lower() == "true"
        return lambda p: p.reviewed == wanted
    if field == "ec":
        return lambda p: any(_equals(value, ec) for ec in p.ec_numbers)
    if field == "family":
        return lambda p: _contains_words(value, p.family)

    # A bare word or phrase: any identifier, name, gene or organism.
    def default(p: Protein) -> bool:
        if any(
            _equals(value, x) for x in [p.accession, p.entry_name, *p.gene_names, *p.gene_synonyms]
        ):
            return True
        text = " ".join([p.protein_name, _organism_text(p), p.family])
        return _contains_words(value, text)

    return default


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.index = 0

    def peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self):
        token = self.peek()
        self.index += 1
        return token

    def parse(self) -> Matcher:
        if not self.tokens:
            raise QueryError("'query' is a required parameter")
        matcher = self.expression()
        if self.peek() is not None:
            raise QueryError(f"query syntax error at {self.peek()[0]!r}")
        return matcher

    def expression(self) -> Matcher:
        left = self.conjunction()
        while self.peek() and self.peek()[0] == "OR":
            self.take()
            right = self.conjunction()
            left = (lambda a, b: lambda p: a(p) or b(p))(left, right)
        return left

    def conjunction(self) -> Matcher:
        left = self.unary()
        while self.peek() and self.peek()[0] in ("AND", "NOT", "(", "term"):
            if self.peek()[0] == "AND":
                self.take()
            right = self.unary()
            left = (lambda a, b: lambda p: a(p) and b(p))(left, right)
        return left

    def unary(self) -> Matcher:
        token = self.take()
        if token is None:
            raise QueryError("query ends where a term was expected")
        kind, field, value = token
        if kind == "NOT":
            inner = self.unary()
            return lambda p: not inner(p)
        if kind == "(":
            inner = self.expression()
            closing = self.take()
            if closing is None or closing[0] != ")":
                raise QueryError("query has an unbalanced parenthesis")
            return inner
        if kind == "term":
            return _term(field, value)
        raise QueryError(f"query syntax error at {kind!r}")


def parse_query(query: str) -> Matcher:
    """A predicate over Protein for a UniProt query string; QueryError when UniProt would say 400."""
    return _Parser(_tokenize(query)).parse()

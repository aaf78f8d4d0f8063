"""`biomedgpt resolve molecule|protein QUERY [--json] [--offline]`.

Exit 0 with the record (text, or the record's JSON with --json); exit 1 for an expected
failure, with `{"error": {"kind", "message", "candidates", ...}}` on stdout under --json or a
one-line message (plus candidates) on stderr otherwise. Exit 2 is argparse's usage error.
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT_FAILURE = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "resolve",
        help="resolve a molecule or protein name/ID via PubChem or UniProt",
        description="Resolve what a user typed to a structure: a molecule (name, CID, SMILES, "
        "InChI, InChIKey) via PubChem, or a protein (accession, entry name, gene + organism, "
        "protein name, sequence) via UniProt. Uses the local cache; --offline answers from the "
        "cache and the bundled snapshot only.",
    )
    parser.add_argument("kind", choices=("molecule", "protein"), help="what to resolve")
    parser.add_argument("query", help="e.g. aspirin, 'CID 2244', P04637, 'TP53 human'")
    parser.add_argument("--json", action="store_true", help="print the record (or error) as JSON")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="never touch the network (also BIOMEDGPT_OFFLINE=1): cache + bundled snapshot",
    )
    parser.set_defaults(handler=run_resolve)


def _print_text(record: object) -> None:
    from biomedgpt_tools.resolvers import MoleculeRecord

    if isinstance(record, MoleculeRecord):
        rows = [
            ("name", record.name),
            ("CID", record.cid),
            ("SMILES", record.smiles),
            ("InChIKey", record.inchikey),
            ("formula", record.formula),
            ("weight", f"{record.molecular_weight:g} g/mol" if record.molecular_weight else None),
            ("IUPAC name", record.iupac_name),
            ("source", record.source_url or record.source),
        ]
    else:
        rows = [
            ("accession", record.accession),
            ("asked for", record.requested_accession),
            ("entry name", record.entry_name),
            ("reviewed", record.reviewed),
            ("protein", record.protein_name),
            ("genes", ", ".join(record.gene_names) or None),
            ("organism", f"{record.organism} ({record.taxon_id})" if record.organism else None),
            ("length", record.length),
            ("sequence", record.sequence),
            ("note", record.note),
            ("source", record.source_url or record.source),
        ]
    for label, value in rows:
        if value is not None and value != "":
            print(f"{label:<11} {value}")


def run_resolve(args: argparse.Namespace) -> int:
    from biomedgpt_tools.cli import CommandError
    from biomedgpt_tools.resolvers import ResolverError, default_resolver

    resolver = default_resolver(offline=True if args.offline else None)
    try:
        if args.kind == "molecule":
            record = resolver.molecule(args.query)
        else:
            record = resolver.protein(args.query)
    except ResolverError as error:
        if args.json:
            print(json.dumps(error.to_json(), indent=2))
            return EXIT_FAILURE
        for candidate in error.candidates:
            fields = candidate.model_dump(exclude_none=True)
            print(
                "  candidate: " + ", ".join(f"{k}={v}" for k, v in fields.items() if v != []),
                file=sys.stderr,
            )
        raise CommandError(f"{error.kind}: {error.message}", EXIT_FAILURE) from None
    finally:
        resolver.close()
    if args.json:
        print(record.model_dump_json(indent=2))
    else:
        _print_text(record)
    return 0

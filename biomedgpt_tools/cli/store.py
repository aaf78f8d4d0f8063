"""`biomedgpt store stats|search|export|import`: look into and move the annotation memory.

Every subcommand takes --path (embedded folder) or --url (Chroma server); without either,
$BIOMEDGPT_CHROMA_URL or the embedded store under $BIOMEDGPT_HOME is used, exactly as the
tools do. chromadb and the embedder are imported inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from biomedgpt_tools.cli import CommandError

EXIT_BAD_INPUT = 2
EXIT_UNAVAILABLE = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "store",
        help="inspect, search, export or import the memory of past answers",
        description="The annotation store: every answer the tools produced, with its provenance.",
    )
    commands = parser.add_subparsers(dest="store_command", metavar="ACTION")
    parser.set_defaults(handler=lambda args: _missing_action(parser))

    where = argparse.ArgumentParser(add_help=False)
    group = where.add_mutually_exclusive_group()
    group.add_argument(
        "--path", type=Path, help="embedded store folder (default: $BIOMEDGPT_HOME/annotations)"
    )
    group.add_argument(
        "--url",
        help="Chroma server URL, e.g. http://127.0.0.1:8000 (default: $BIOMEDGPT_CHROMA_URL)",
    )

    stats = commands.add_parser("stats", parents=[where], help="counts by kind, source and model")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(handler=_stats)

    search = commands.add_parser(
        "search",
        parents=[where],
        help="find annotations by meaning (TEXT) and/or by entity (--kind with --key)",
    )
    search.add_argument("text", nargs="?", help="what to look for, in words")
    search.add_argument("-k", type=int, default=5, help="how many results (default 5)")
    search.add_argument("--kind", choices=("molecule", "protein", "text"), help="entity kind")
    search.add_argument("--key", help="InChIKey or UniProt accession (needs --kind)")
    search.add_argument("--model", dest="model_id", help="only answers of this model id")
    search.add_argument("--json", action="store_true", help="print JSON lines")
    search.set_defaults(handler=_search)

    export = commands.add_parser("export", parents=[where], help="write the store as JSON lines")
    export.add_argument("file", help="output file, or - for stdout")
    export.set_defaults(handler=_export)

    import_ = commands.add_parser("import", parents=[where], help="upsert an export into the store")
    import_.add_argument("file", help="a file written by `biomedgpt store export`")
    import_.set_defaults(handler=_import)


def _missing_action(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_BAD_INPUT


def _open(args: argparse.Namespace):
    from biomedgpt_tools.store import StoreError, open_store

    try:
        return open_store(path=args.path, url=args.url)
    except StoreError as error:
        raise CommandError(str(error), EXIT_UNAVAILABLE) from None


def _run(args: argparse.Namespace, action) -> int:
    """Open the store, run `action(store)`, close; store errors become one-line CommandErrors."""
    from biomedgpt_tools.store import InvalidAnnotationError, StoreError

    store = _open(args)
    try:
        return action(store)
    except InvalidAnnotationError as error:
        raise CommandError(str(error), EXIT_BAD_INPUT) from None
    except StoreError as error:
        raise CommandError(str(error), EXIT_UNAVAILABLE) from None
    finally:
        store.close()


def _stats(args: argparse.Namespace) -> int:
    def action(store) -> int:
        stats = store.stats()
        if args.json:
            print(json.dumps(stats.to_dict(), sort_keys=True))
            return 0
        print(f"store:            {stats.location}")
        print(f"text embedder:    {stats.embedding_model}")
        print(f"annotations:      {stats.annotations}")
        for title, counts in (
            ("by kind", stats.by_kind),
            ("by source", stats.by_source),
            ("by model", stats.by_model),
        ):
            if counts:
                print(f"{title}:")
                for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
                    print(f"  {count:>8}  {name}")
        print(f"protein vectors:  {sum(stats.protein_vectors.values())}")
        for name, count in sorted(stats.protein_vectors.items()):
            print(f"  {count:>8}  {name}")
        return 0

    return _run(args, action)


def _search(args: argparse.Namespace) -> int:
    if args.key and not args.kind:
        raise CommandError("--key needs --kind (molecule, protein or text)")
    if not args.text and not (args.kind and args.key):
        raise CommandError(
            "give TEXT to search by meaning, or --kind and --key to list one entity's annotations"
        )
    if args.k < 1:
        raise CommandError(f"-k must be at least 1, got {args.k}")

    def action(store) -> int:
        if args.text:
            hits = store.search(
                args.text, k=args.k, kind=args.kind, key=args.key, model_id=args.model_id
            )
            results = [(hit.record, hit.distance) for hit in hits]
        else:
            records = store.find(args.kind, args.key, model_id=args.model_id, limit=args.k)
            results = [(record, None) for record in records]
        if not results:
            print("no annotations found", file=sys.stderr)
            return 1
        for record, distance in results:
            if args.json:
                line = record.to_dict()
                if distance is not None:
                    line["distance"] = distance
                print(json.dumps(line, sort_keys=True))
                continue
            head = f"{distance:.3f}  " if distance is not None else ""
            name = f" ({record.display_name})" if record.display_name else ""
            print(
                f"{head}{record.kind} {record.key or '-'}{name}  "
                f"[{record.model_id}@{record.model_revision or '-'}, {record.source}, {record.created_at:%Y-%m-%d %H:%M}]"
            )
            print(f"    Q: {record.question}")
            print(f"    A: {record.answer}")
        return 0

    return _run(args, action)


def _export(args: argparse.Namespace) -> int:
    def action(store) -> int:
        if args.file == "-":
            counts = store.export_jsonl(sys.stdout)
        else:
            try:
                counts = store.export_jsonl(args.file)
            except OSError as error:
                raise CommandError(
                    f"cannot write {args.file}: {error.strerror}", EXIT_BAD_INPUT
                ) from None
        print(
            f"exported {counts['annotations']} annotations and {counts['protein_vectors']} protein vectors",
            file=sys.stderr,
        )
        return 0

    return _run(args, action)


def _import(args: argparse.Namespace) -> int:
    source = Path(args.file)
    if not source.is_file():
        raise CommandError(
            f"{args.file} is not a file; pass the path of a `biomedgpt store export`"
        )

    def action(store) -> int:
        counts = store.import_jsonl(source)
        print(
            f"imported {counts['annotations']} annotations and {counts['protein_vectors']} protein vectors"
        )
        return 0

    return _run(args, action)

"""One-line messages for the ways an input file can be unusable, shared by every entry point.

A binary or mis-encoded file, a folder where a file was expected, a dangling link, a TSV
field past the csv module's limit, a file that is not the SQLite database it should be:
readers deep inside loaders raise these as plain Python errors; the commands' `main`s turn
them into one line that names the file (when Python knows it) and what to do, instead of a
traceback. `shorten` keeps a message that quotes an enormous input readable.
"""

from __future__ import annotations

import csv
import sqlite3

MAX_MESSAGE_CHARS = 400
INPUT_ERRORS = (UnicodeDecodeError, OSError, csv.Error, sqlite3.DatabaseError)


def describe_input_error(error: BaseException) -> str:
    """The one-line message for an error in INPUT_ERRORS."""
    if isinstance(error, UnicodeDecodeError):
        return (
            f"an input file is not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
            f"{error.start}); is it a binary file? Give a UTF-8 text file"
        )
    if isinstance(error, OSError) and error.filename is None:
        return shorten(error)  # raised by our own code with its own message: keep it
    if isinstance(error, IsADirectoryError):
        return f"{error.filename} is a folder; give a file"
    if isinstance(error, FileNotFoundError):
        return f"{error.filename} does not exist (or is a link to nothing)"
    if isinstance(error, PermissionError):
        return f"{error.filename} cannot be read: permission denied"
    if isinstance(error, OSError):
        return f"{error.filename}: {error.strerror or error}"
    if isinstance(error, csv.Error):
        return f"an input file is not the expected TSV/CSV ({error}); check the file"
    return f"a database file is unusable ({error}); is it the right file (an SQLite database)?"


def shorten(message: object, limit: int = MAX_MESSAGE_CHARS) -> str:
    """At most `limit` characters, on one line: an error that quotes a huge input stays short."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else f"{text[: limit - 25]}... ({len(text)} characters)"

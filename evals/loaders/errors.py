"""The one error every loader raises for a malformed or missing data file."""


class DataFormatError(ValueError):
    """A data file is missing or not in the expected format; the message names file and fix."""

"""Errors that name the source system and where in it things went wrong.

``SourceUnavailableError`` is transient (unreachable, timed out) and worth a retry;
``SourceDataError`` is bad data (malformed JSON, a bad CSV row) that no retry will fix.
"""

from __future__ import annotations


class SourceError(RuntimeError):
    def __init__(self, source: str, message: str, location: str | None = None):
        self.source = source
        self.location = location
        where = f" ({location})" if location else ""
        super().__init__(f"{source}{where}: {message}")


class SourceUnavailableError(SourceError):
    """The source could not be reached or did not answer in time."""


class SourceDataError(SourceError):
    """The source answered, but with data that breaks its documented shape."""

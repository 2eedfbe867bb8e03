"""The one exception type the CLI turns into a one-line message and exit 1, and a
helper for such messages."""

import difflib
from collections.abc import Iterable


class ReinflectError(Exception):
    """A user-facing error: the message says what is wrong and where (file, line, value)."""


class UsageError(ReinflectError):
    """Options that do not go together, or one that is missing: the CLI exits 2."""


class DataMissingError(ReinflectError):
    """Data files are not where they were looked for."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean X?"`` for the closest of ``choices``, or ``""``."""
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if not close:
        close = [c for c in choices if c.upper() == word.upper()]
    return f"; did you mean {' or '.join(close)}?" if close else ""

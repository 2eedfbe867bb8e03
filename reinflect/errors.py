"""The one exception type the CLI turns into a one-line message and exit 1."""


class ReinflectError(Exception):
    """A user-facing error: the message says what is wrong and where (file, line, value)."""


class DataMissingError(ReinflectError):
    """Data files are not where they were looked for."""

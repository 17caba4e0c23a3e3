"""Errors that mean "bad input" (exit code 2), kept in a light module the CLI imports early."""


class OutputError(OSError):
    """The output folder cannot be written (bad path, not a folder, no permission)."""


class UsageError(ValueError):
    """A command-line value is not acceptable (exit code 2)."""

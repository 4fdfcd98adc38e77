"""User-facing errors. The CLI turns a BenchError into one message and exit status 2."""

from __future__ import annotations


class BenchError(Exception):
    """Bad input from the user: a config key, a file, a model name, a label id.

    The message must name the file, the key and the valid choices where they apply.
    """

    exit_code = 2

"""``ctw``, the command-line program.

Modules: ``main`` (the program and its error handling), ``catalog_commands`` and
``session_commands`` (the commands), ``options`` (scope options), ``watching`` (live view loop),
``workers`` (worker argv), ``demo``; ``shapes`` builds every JSON document and ``render`` every
table, both free of commands.
"""

from __future__ import annotations

from ctworkflow.cli.main import app, main

__all__ = ["app", "main"]

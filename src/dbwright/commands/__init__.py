"""CLI command modules beyond the core ones in cli.py.

Each module here defines ``register(app: typer.Typer) -> None`` and is found automatically:
a new command is one new file. Commands stay thin: they parse options, call the library,
and render its objects.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer


def register_all(app: typer.Typer) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)

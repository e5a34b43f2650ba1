"""The ``kyodo`` command line (Typer + Rich).

Command groups live in ``automation/commands/<name>.py``; each module exposes
``register(app)``. Discovering them keeps this file stable while capabilities add
their own groups (ocr, form, scenario, asr, usage, serve, worker, …).
"""
from __future__ import annotations

import importlib
import logging
import pkgutil

import typer

from automation import commands
from automation.logsetup import setup_logging

app = typer.Typer(
    name="kyodo",
    help="Kyodo (共同): shared RPA + AI-OCR + meeting transcription for municipalities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="debug logging")) -> None:
    setup_logging(logging.DEBUG if verbose else logging.WARNING)


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"automation.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    app()


if __name__ == "__main__":
    main()

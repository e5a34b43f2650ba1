"""``python -m automation.runner worker --kinds echo`` (the same as ``kyodo worker``,
without loading every CLI command group: used by tests that start real processes)."""
from __future__ import annotations

import typer

from automation.commands import serve, watch, worker

app = typer.Typer(no_args_is_help=True, add_completion=False)
worker.register(app)
watch.register(app)
serve.register(app)

if __name__ == "__main__":
    app()

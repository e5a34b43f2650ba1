"""``kyodo secrets set|list|delete``: the encrypted secret store (values never printed)."""
from __future__ import annotations

import sys

import typer
from rich.table import Table

from automation.console import console, err_console, load_tenant_or_exit
from tenants.config import SECRET_NAME_RE
from tenants.secretstore import SecretStoreError, delete_secret, list_names, set_secret, store_path

secrets_app = typer.Typer(help="Secrets named by tenant files (encrypted store under the data root).", no_args_is_help=True)


def _audit(action: str, tenant: str, name: str) -> None:
    # Best effort: a store on a machine without the database still works.
    try:
        from tenants.audit import audit
        from tenants.db import session_scope

        with session_scope() as s:
            audit(s, action, actor="cli", tenant_id=tenant, target=f"secret/{name}")
    except Exception as e:  # noqa: BLE001
        err_console.print(f"[yellow]warning[/yellow] not recorded in the audit log ({type(e).__name__}); run 'kyodo db upgrade'")


@secrets_app.command("set")
def set_cmd(
    name: str = typer.Argument(..., help="secret name as the tenant file names it, e.g. jidou_teate_password"),
    tenant: str = typer.Option(..., "--tenant", "-t"),
    stdin: bool = typer.Option(False, "--stdin", help="read the value from standard input (scripts)"),
) -> None:
    """Store a secret for a tenant; the value is asked for with hidden input."""
    import re

    load_tenant_or_exit(tenant)
    if not re.match(SECRET_NAME_RE, name):
        raise typer.BadParameter("letters, digits, '_', '.', '-' only (at most 64)", param_hint="NAME")
    value = sys.stdin.readline().rstrip("\n") if stdin else typer.prompt(f"value of {name} for {tenant}", hide_input=True,
                                                                            confirmation_prompt=True)
    try:
        set_secret(tenant, name, value)
    except SecretStoreError as e:
        err_console.print(f"[red]error[/red] {e}")
        raise typer.Exit(1) from None
    _audit("secret.set", tenant, name)
    console.print(f"stored {name} for {tenant} in {store_path()}")


@secrets_app.command("list")
def list_cmd(tenant: str = typer.Option(None, "--tenant", "-t")) -> None:
    """Names of stored secrets per tenant (never the values)."""
    try:
        names = list_names(tenant)
    except SecretStoreError as e:
        err_console.print(f"[red]error[/red] {e}")
        raise typer.Exit(1) from None
    table = Table(title=f"Secrets in {store_path()}")
    table.add_column("tenant")
    table.add_column("names")
    for tid, ns in names.items():
        table.add_row(tid, ", ".join(ns))
    console.print(table)


@secrets_app.command("delete")
def delete_cmd(name: str = typer.Argument(...), tenant: str = typer.Option(..., "--tenant", "-t")) -> None:
    """Remove a stored secret."""
    try:
        found = delete_secret(tenant, name)
    except SecretStoreError as e:
        err_console.print(f"[red]error[/red] {e}")
        raise typer.Exit(1) from None
    if not found:
        err_console.print(f"no secret {name} for {tenant}")
        raise typer.Exit(1)
    _audit("secret.delete", tenant, name)
    console.print(f"deleted {name} for {tenant}")


def register(app: typer.Typer) -> None:
    app.add_typer(secrets_app, name="secrets")

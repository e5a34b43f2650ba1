"""``kyodo users add|list|passwd|token``: web UI users per tenant."""
from __future__ import annotations

import sys

import typer
from rich.table import Table
from sqlalchemy import select

from automation.console import console, err_console, jst, load_tenant_or_exit
from tenants.db import get_engine, session_scope
from tenants.users import Role, User, UserError, create_user, find_user, set_password

users_app = typer.Typer(help="Web UI users (clerks and administrators).", no_args_is_help=True)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    pw = typer.prompt("Password", hide_input=True)
    if typer.prompt("Repeat password", hide_input=True) != pw:
        err_console.print("[red]error[/red] the two passwords differ; nothing was changed")
        raise typer.Exit(1)
    return pw


def _tenant_or_none(tenant: str | None, role: Role) -> str | None:
    if role is Role.platform_admin:
        return None
    if not tenant:
        err_console.print(f"[red]error[/red] role {role.value} belongs to a tenant: add --tenant <id>")
        raise typer.Exit(2)
    load_tenant_or_exit(tenant)  # exit 2 with the file's problems if the tenant is unknown or broken
    return tenant


@users_app.command("add")
def add(
    username: str = typer.Argument(..., help="login name, unique within the tenant"),
    tenant: str = typer.Option(None, "--tenant", help="tenant id (not for platform_admin)"),
    role: Role = typer.Option(Role.clerk, "--role", help="clerk | tenant_admin | platform_admin"),
    display_name: str = typer.Option("", "--display-name", help="name shown in the UI, e.g. 山田 花子"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from the first line of stdin"),
) -> None:
    """Add a user; the password is prompted (hidden) or read from stdin."""
    tid = _tenant_or_none(tenant, role)
    password = _read_password(password_stdin)
    try:
        with session_scope(get_engine()) as s:
            user = create_user(s, tenant_id=tid, username=username, role=role, password=password, display_name=display_name)
    except UserError as e:
        err_console.print(f"[red]error[/red] {e}")
        raise typer.Exit(1) from None
    console.print(f"added {user.role} '{user.username}' to {tid or 'the platform'}")


@users_app.command("passwd")
def passwd(
    username: str = typer.Argument(...),
    tenant: str = typer.Option(None, "--tenant", help="tenant id ('' for a platform admin)"),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
) -> None:
    """Set a user's password (their API tokens stop working)."""
    password = _read_password(password_stdin)
    with session_scope(get_engine()) as s:
        user = find_user(s, tenant or None, username)
        if user is None:
            err_console.print(f"[red]error[/red] no user '{username}' in {tenant or 'the platform'}")
            raise typer.Exit(1)
        try:
            set_password(s, user, password)
        except UserError as e:
            err_console.print(f"[red]error[/red] {e}")
            raise typer.Exit(1) from None
    console.print(f"password of '{username}' changed")


@users_app.command("list")
def list_users(tenant: str = typer.Option(None, "--tenant", help="only this tenant")) -> None:
    """List users (never their passwords)."""
    table = Table(title="Kyodo web users")
    for col in ("tenant", "username", "role", "enabled", "last login (JST)"):
        table.add_column(col)
    with session_scope(get_engine()) as s:
        stmt = select(User).order_by(User.tenant_id, User.username)
        if tenant:
            stmt = stmt.where(User.tenant_id == tenant)
        for u in s.exec(stmt).scalars():  # type: ignore[call-overload]
            table.add_row(u.tenant_id or "(platform)", u.username, str(u.role), "yes" if u.enabled else "no", jst(u.last_login_at))
    console.print(table)


@users_app.command("token")
def token(username: str = typer.Argument(...), tenant: str = typer.Option(None, "--tenant")) -> None:
    """Print an API token for a user (Authorization: Bearer <token>, valid 90 days)."""
    from automation.web.auth import issue_token, secret_key

    with session_scope(get_engine()) as s:
        user = find_user(s, tenant or None, username)
        if user is None:
            err_console.print(f"[red]error[/red] no user '{username}' in {tenant or 'the platform'}")
            raise typer.Exit(1)
        print(issue_token(user, secret_key()))


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")

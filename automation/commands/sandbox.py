"""``kyodo sandbox serve``: the sandbox 児童手当 system for demos and scenario authors."""
from __future__ import annotations

from typing import Optional

import typer

from automation.console import console, load_tenant_or_exit

app = typer.Typer(help="The sandbox business system (児童手当, two vendor variants).", no_args_is_help=True)


@app.command("serve")
def serve(variant: Optional[str] = typer.Option(None, "--variant", help="a (受給者/個人番号) or b (請求者/マイナンバー)"),
          port: Optional[int] = typer.Option(None, "--port", help="port (default: the tenant's base_url port, else 8765)"),
          host: str = typer.Option("127.0.0.1", "--host"),
          tenant: Optional[str] = typer.Option(None, "--tenant", "-t", help="take variant, port and user from this tenant's [systems.jidou_teate]"),
          username: Optional[str] = typer.Option(None, "--username"),
          seed: int = typer.Option(0, "--seed", help="seed this many sample recipients (受給者番号 1000001…)")) -> None:
    """Serve the sandbox in the foreground (Ctrl+C stops it). Password: the tenant's secret, else 'sandbox-pass'."""
    import uvicorn

    from automation.sandbox import create_sandbox_app
    from automation.sandbox.samples import recipients_for, sample_records
    from automation.sandbox.store import SandboxStore
    from automation.sandbox.app import VARIANTS
    from tenants.secrets import SecretMissing, get_secret

    password = "sandbox-pass"
    if tenant:
        cfg = load_tenant_or_exit(tenant).config
        system = cfg.systems.get("jidou_teate")
        if system is not None:
            variant = variant or system.variant
            port = port or system.base_url.port
            username = username or system.username
            if system.password_secret:
                try:
                    password = get_secret(cfg.id, system.password_secret)
                except SecretMissing:
                    pass
    variant = variant or "a"
    if variant not in VARIANTS:
        raise typer.BadParameter(f"unknown variant '{variant}' (a or b)")
    store = SandboxStore(VARIANTS[variant].receipt_prefix)
    if seed:
        store.seed(recipients_for(sample_records(seed)))
    app_ = create_sandbox_app(variant, username=username or "robot", password=password, store=store)
    console.print(f"sandbox variant {variant} on http://{host}:{port or 8765}/ (user {username or 'robot'}); "
                  f"admin: /_admin/seed, /_admin/stored, /_admin/faults")
    uvicorn.run(app_, host=host, port=port or 8765, log_level="warning")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="sandbox")

"""``kyodo serve`` as a real process (workers + intake + web UI), and the jobs/pools commands."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys

import httpx
import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from automation.commands import jobs as jobs_cmd
from automation.commands import pools as pools_cmd
from automation.jobs import enqueue
from tenants.licensing import acquire_seat
from tenants.models import Job, JobStatus

from .conftest import PROJECT, Platform, wait_for


def _app() -> typer.Typer:
    app = typer.Typer()
    jobs_cmd.register(app)
    pools_cmd.register(app)
    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jobs_and_pools_commands(platform: Platform) -> None:
    from automation.runner.tenantcache import pools

    with platform.session() as s:
        j = enqueue(s, tenant_id="beta", kind="echo", payload={"seat": True, "note": "個人番号 1234 5678 9012"}, idempotency_key="x")
        acquire_seat(s, pools()["robots"], "host:1:0", 30)
        s.commit()
    runner = CliRunner()
    out = runner.invoke(_app(), ["jobs", "list", "--tenant", "beta"])
    assert out.exit_code == 0 and "echo" in out.output and "queued" in out.output
    out = runner.invoke(_app(), ["jobs", "show", str(j.id)])
    assert out.exit_code == 0 and "1234 5678 9012" not in out.output and "****" in out.output
    out = runner.invoke(_app(), ["pools", "show"])
    assert out.exit_code == 0 and "robots" in out.output and "busy" in out.output and "beta 1" in out.output
    assert runner.invoke(_app(), ["jobs", "retry", str(j.id)]).exit_code == 1  # still queued
    out = runner.invoke(_app(), ["jobs", "cancel", str(j.id)])
    assert out.exit_code == 0 and "cancelled" in out.output
    assert runner.invoke(_app(), ["jobs", "retry", str(j.id)]).exit_code == 0
    assert runner.invoke(_app(), ["jobs", "show", "999"]).exit_code == 1


@pytest.mark.slow
def test_serve_runs_workers_intake_and_the_web_ui_in_one_process(platform: Platform) -> None:
    port = _free_port()
    log = open(platform.root / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "automation.runner", "serve", "--port", str(port), "--kinds", "echo",
                             "--intake-kind", "echo"], cwd=PROJECT, env=platform.env, stdout=log, stderr=subprocess.STDOUT)
    platform.procs.append(proc)
    inbox = platform.folder("gamma", "inbox")
    wait_for(inbox.is_dir, 30, "the intake to create the inbox", platform)
    (inbox / "hello.pdf").write_bytes(b"%PDF hello")
    wait_for(lambda: (platform.folder("gamma", "done") / "hello.pdf").is_file(), 30, "hello.pdf in done/", platform)

    def web_up() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code < 500
        except httpx.HTTPError:
            return False
    try:
        import automation.web.app  # noqa: F401
    except ImportError:
        pass
    else:
        wait_for(web_up, 30, "the web UI", platform)
    with platform.session() as s:
        [job] = list(s.exec(select(Job)).scalars())
    assert job.status == JobStatus.succeeded
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0

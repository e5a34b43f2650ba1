"""The sandbox 児童手当 business system, for tests, the demo and scenario authors.

``start_sandbox()`` runs the app in-process (uvicorn in a background thread on a free
port) and returns a :class:`SandboxHandle`; ``kyodo sandbox serve`` runs it in the
foreground.
"""
from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from .app import VARIANTS, create_sandbox_app
from .store import Faults, SandboxStore, my_number_check_digit, valid_my_number

__all__ = ["SandboxHandle", "start_sandbox", "create_sandbox_app", "VARIANTS", "Faults",
           "my_number_check_digit", "valid_my_number"]


class SandboxHandle:
    """A running sandbox. Use as a context manager or call :meth:`stop`."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, store: SandboxStore, variant: str, port: int,
                 host: str = "127.0.0.1") -> None:
        self._server = server
        self._thread = thread
        self.store = store
        self.variant = variant
        self.port = port
        self.url = f"http://{host}:{port}/"

    # The helpers below work on the store directly (same process); the HTTP admin
    # endpoints offer the same for a sandbox in another process.
    def seed(self, recipients: list[dict[str, Any]]) -> int:
        return self.store.seed(recipients)

    def stored(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.store.reports]

    def set_faults(self, **faults: Any) -> None:
        """E.g. ``set_faults(fail_next=1, fail_path="/register")`` or ``set_faults(slow_ms=300)``."""
        self.store.faults = Faults(**faults)

    def expire_sessions(self) -> None:
        self.store.sessions.clear()

    def reset(self) -> None:
        self.store.reset()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> "SandboxHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sandbox(variant: str = "a", port: int = 0, *, username: str = "robot", password: str = "sandbox-pass",
                  host: str = "127.0.0.1") -> SandboxHandle:
    """Start the sandbox in a background thread; ``port=0`` picks a free port."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown sandbox variant '{variant}' (known: {', '.join(VARIANTS)})")
    store = SandboxStore(VARIANTS[variant].receipt_prefix)
    app = create_sandbox_app(variant, username=username, password=password, store=store)
    # Bind first, so the port is known (and free) before the server thread starts.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    actual_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox-{variant}-{actual_port}",
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True  # do not leave a thread and a bound port behind
            thread.join(5)
            sock.close()
            raise RuntimeError(f"sandbox variant {variant} did not start on port {actual_port}")
        time.sleep(0.01)  # waiting for our own thread to bind, not for a web page
    return SandboxHandle(server, thread, store, variant, actual_port, host)

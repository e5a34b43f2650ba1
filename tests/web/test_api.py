"""The JSON API (/api/) through FastAPI's test client: tokens, scoping, masking, safe uploads."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from automation.web.app import create_app

from .conftest import PASSWORD, TENANT_A, TENANT_B
from .docs import MY_NUMBER, add_flagged_document


@pytest.fixture
def client(sqlite_site) -> TestClient:  # noqa: ANN001
    app = create_app(sqlite_site.engine, data_root=sqlite_site.data_root)
    c = TestClient(app)
    c.fastapi_app = app  # type: ignore[attr-defined]
    return c


def _token(client: TestClient, tenant: str | None, username: str) -> dict[str, str]:
    r = client.post("/api/token", json={"tenant": tenant, "username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_token_documents_and_scoping(client, sqlite_site) -> None:  # noqa: ANN001
    a = add_flagged_document(sqlite_site.engine, sqlite_site.tenants[TENANT_A], sqlite_site.data_root)
    b = add_flagged_document(sqlite_site.engine, sqlite_site.tenants[TENANT_B], sqlite_site.data_root, "b.png")
    assert client.get("/api/documents").status_code == 401
    assert client.post("/api/token", json={"tenant": TENANT_A, "username": "clerk-a", "password": "nope"}).status_code == 401
    assert client.get("/api/documents", headers={"Authorization": "Bearer forged"}).status_code == 401
    h = _token(client, TENANT_A, "clerk-a")
    docs = client.get("/api/documents", headers=h).json()
    assert [d["id"] for d in docs] == [a]
    detail = client.get(f"/api/documents/{a}", headers=h).json()
    assert detail["status"] == "needs_review" and detail["doubtful_fields"] == ["recipient_name", "recipient_birth_date"]
    assert detail["record"]["postal_code"] == "380-8512"
    assert MY_NUMBER not in str(detail)  # masked for other systems
    assert client.get(f"/api/documents/{b}", headers=h).status_code == 404
    # The platform administrator sees every tenant's documents.
    root = _token(client, None, "root")
    assert sorted(d["id"] for d in client.get("/api/documents", headers=root).json()) == [a, b]
    assert "/api/documents" in client.get("/api/openapi.json").json()["paths"]


def test_submit_lands_in_the_inbox_under_a_safe_name(client, sqlite_site) -> None:  # noqa: ANN001
    h = _token(client, TENANT_A, "clerk-a")
    inbox = sqlite_site.tenants[TENANT_A].folder_paths(sqlite_site.data_root)["inbox"]
    r = client.post("/api/documents", headers=h, files={"file": ("../../../etc/scan.pdf", b"%PDF-1.4 test", "application/pdf")},
                    data={"folder": "現況届"})
    assert r.status_code == 202, r.text
    assert (inbox / "現況届" / "scan.pdf").read_bytes() == b"%PDF-1.4 test"
    r = client.post("/api/documents", headers=h, files={"file": ("scan.pdf", b"%PDF-1.4 again", "application/pdf")},
                    data={"folder": "現況届"})
    assert r.json()["filename"] == "scan-1.pdf"  # never overwrites
    bad = client.post("/api/documents", headers=h, files={"file": ("run.sh", b"#!/bin/sh", "text/plain")})
    assert bad.status_code == 415 and ".pdf" in bad.json()["detail"]
    assert client.post("/api/documents", headers=h, files={"file": ("a.pdf", b"x", "application/pdf")},
                       data={"folder": "../secrets"}).status_code == 422
    assert client.post("/api/documents", headers=h, files={"file": ("empty.pdf", b"", "application/pdf")}).status_code == 422
    assert sorted(p.name for p in inbox.rglob("*")) == ["scan-1.pdf", "scan.pdf", "現況届"]  # no .part left over


def test_cookie_session_needs_the_csrf_header_on_post(client, sqlite_site) -> None:  # noqa: ANN001
    key = sqlite_site.data_root / "web-secret.key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_text()) >= 48  # signing key kept private
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.post("/login", data={"tenant": TENANT_A, "username": "clerk-a", "password": PASSWORD}).status_code == 403
    r = client.post("/login", data={"csrf_token": token, "tenant": TENANT_A, "username": "clerk-a", "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "httponly" in r.headers["set-cookie"].lower() and "samesite=lax" in r.headers["set-cookie"].lower()
    files = {"file": ("scan.pdf", b"%PDF-1.4", "application/pdf")}
    assert client.post("/api/documents", files=files).status_code == 403
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/review").text).group(1)
    assert client.post("/api/documents", files=files, headers={"X-CSRF-Token": csrf}).status_code == 202


def _post_paths(routes, prefix: str = "") -> set[str]:  # noqa: ANN001
    out: set[str] = set()
    for r in routes:
        inner = getattr(r, "original_router", None)  # FastAPI's included routers
        if inner is not None:
            out |= _post_paths(inner.routes, prefix + getattr(inner, "prefix", ""))
        elif "POST" in (getattr(r, "methods", None) or set()):
            out.add(r.path if r.path.startswith(prefix) else prefix + r.path)
    return out


def test_every_post_route_requires_the_csrf_token(client) -> None:  # noqa: ANN001
    """No route can forget CSRF: the check is app-wide; only the password-for-token endpoint is exempt."""
    posts = sorted(_post_paths(client.fastapi_app.routes))
    assert len(posts) >= 7
    for path in posts:
        url = re.sub(r"\{[^}]+\}", "1", path)
        status = client.post(url, data={"x": "1"}).status_code
        assert (status != 403) if path == "/api/token" else (status == 403), path


def test_a_user_name_that_fails_five_times_waits_even_with_the_right_password(client, sqlite_site) -> None:  # noqa: ANN001
    from datetime import timedelta

    from automation.web import throttle
    from tenants.models import utcnow

    bad = {"tenant": TENANT_A, "username": "clerk-a", "password": "wrong"}
    for _ in range(throttle.MAX_FAILURES - 1):
        assert client.post("/api/token", json=bad).status_code == 401
    assert client.post("/api/token", json={**bad, "password": PASSWORD}).status_code == 200  # a success resets the count
    for _ in range(throttle.MAX_FAILURES):
        assert client.post("/api/token", json=bad).status_code == 401
    assert client.post("/api/token", json={**bad, "password": PASSWORD}).status_code == 429
    # The web form shares the count and says in Japanese what to do.
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"csrf_token": token, "tenant": TENANT_A, "username": "clerk-a", "password": PASSWORD})
    assert r.status_code == 429 and "ログインの失敗が5回続いた" in r.text and "分後" in r.text
    # Other names are not affected; an unknown name is throttled like a known one.
    assert client.post("/api/token", json={"tenant": TENANT_A, "username": "admin-a", "password": PASSWORD}).status_code == 200
    for _ in range(throttle.MAX_FAILURES):
        assert client.post("/api/token", json={**bad, "username": "nobody"}).status_code == 401
    assert client.post("/api/token", json={**bad, "username": "nobody"}).status_code == 429
    with sqlite_site.engine.connect() as conn:
        from sqlmodel import Session

        with Session(conn) as s:  # the lock ends when the window has passed
            assert throttle.locked_until(s, f"{TENANT_A}/clerk-a", now=utcnow() + throttle.WINDOW + timedelta(seconds=1)) is None

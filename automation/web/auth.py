"""Login sessions, roles, CSRF protection and API tokens.

* The session is Starlette's signed cookie (itsdangerous), HttpOnly, SameSite=Lax, and
  holds only the user id and the CSRF token.
* Every state-changing request made with the cookie must carry the CSRF token (form
  field ``csrf_token`` or header ``X-CSRF-Token``); it is checked once, as an
  app-wide dependency, so no route can forget it.
* Other systems use ``Authorization: Bearer <token>`` (``POST /api/token`` or
  ``kyodo users token``); such requests ignore the cookie, so CSRF does not apply.
* The signing key comes from ``KYODO_WEB_SECRET`` or a key file under the data root (0600).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tenants.db import session_scope
from tenants.scope import tenant_session
from tenants.settings import get_settings
from tenants.users import Role, User

KEY_FILE = "web-secret.key"
SESSION_COOKIE = "kyodo_session"
SESSION_MAX_AGE = 8 * 3600  # one working day
TOKEN_MAX_AGE = 90 * 24 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_EXEMPT = {"/api/token"}  # issues a token from a password; uses no cookie


def secret_key(data_root: Path | None = None) -> str:
    """KYODO_WEB_SECRET, else a random key kept in ``<data_root>/web-secret.key`` (created 0600)."""
    env = os.environ.get("KYODO_WEB_SECRET")
    if env:
        return env
    settings = get_settings()
    path = settings.secret_key_file or (data_root or settings.data_root) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written in full under a temporary name, then linked: a second process starting at the
        # same moment either wins the link or reads the complete key, never an empty file.
        fd, tmp = tempfile.mkstemp(prefix=".web-secret-", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


class LoginRequired(Exception):
    """Raised by :func:`current_user`; HTML routes redirect to /login, the API answers 401."""


class Forbidden(Exception):
    """The user is logged in but their role may not do this."""


def _fingerprint(user: User) -> str:
    # Changing the password invalidates the user's API tokens.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _serializer(key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt="kyodo-api-token")


def issue_token(user: User, key: str) -> str:
    return _serializer(key).dumps({"uid": user.id, "fp": _fingerprint(user)})


def _user_from_token(token: str, key: str, engine: Engine) -> User | None:
    try:
        data = _serializer(key).loads(token, max_age=TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    with session_scope(engine) as s:
        user = s.get(User, data.get("uid"))
        if user is None or not user.enabled or data.get("fp") != _fingerprint(user):
            return None
        return user


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def current_user_or_none(request: Request) -> User | None:
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    engine = request.app.state.engine
    token = _bearer(request)
    user = None
    if token is not None:
        user = _user_from_token(token, request.app.state.secret_key, engine)
    else:
        uid = request.session.get("uid")
        if uid is not None:
            with session_scope(engine) as s:
                user = s.get(User, uid)
            if user is not None and not user.enabled:
                user = None
    request.state.user = user
    return user


def current_user(request: Request) -> User:
    user = current_user_or_none(request)
    if user is None:
        raise LoginRequired()
    return user


def require(*roles: Role):  # noqa: ANN201
    """Dependency factory: the logged-in user, if their role is one of *roles*."""
    allowed = {Role(r) for r in roles}

    def dep(request: Request) -> User:
        user = current_user(request)
        if Role(user.role) not in allowed:
            raise Forbidden()
        return user

    return dep


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def csrf_protect(request: Request) -> None:
    """App-wide: refuse cookie-authenticated state changes without the session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.url.path in CSRF_EXEMPT:
        return
    if _bearer(request) is not None:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    expected = request.session.get("csrf")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(status_code=403, detail="CSRFトークンがないか正しくありません。画面を読み込み直してから、もう一度操作してください。")


@contextmanager
def user_session(engine: Engine, user: User) -> Iterator[Session]:
    """The user's unit of work: tenant-scoped for tenant users, platform-wide for platform admins."""
    if user.tenant_id:
        with tenant_session(user.tenant_id, engine) as s:
            yield s
    else:
        with session_scope(engine) as s:
            yield s

"""Password checks with throttling: a name that failed too often in a row waits before it may try again.

Counted from the audit log (failed logins and token requests since the last success of the same
``tenant/username``), so every web worker process and every restart sees the same count, and an
unknown user name is throttled exactly like a known one (the answer reveals nothing).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from sqlalchemy import select
from sqlmodel import Session

from tenants.audit import audit
from tenants.models import AuditEvent, utcnow
from tenants.users import User, authenticate

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
SUCCESS = ("auth.login", "auth.token")
FAILURE = ("auth.login_failed", "auth.token_failed")


@dataclass
class PasswordCheck:
    user: User | None
    locked_until: datetime | None = None

    def wait_message(self, now: datetime | None = None) -> str:
        assert self.locked_until is not None
        minutes = max(1, -(-int((self.locked_until - (now or utcnow())).total_seconds()) // 60))
        return (f"ログインの失敗が{MAX_FAILURES}回続いたため、このユーザー名ではしばらくログインできません。"
                f"約{minutes}分後にもう一度お試しください。パスワードが分からない場合は管理者に連絡してください。")


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt


def locked_until(session: Session, actor: str, now: datetime | None = None) -> datetime | None:
    """When *actor* may try again, or None if it may try now."""
    now = now or utcnow()
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.time)
        .where(AuditEvent.actor == actor, AuditEvent.action.in_(SUCCESS + FAILURE),  # type: ignore[attr-defined]
               AuditEvent.time > now - WINDOW)
        .order_by(AuditEvent.time.desc(), AuditEvent.id.desc()).limit(MAX_FAILURES)  # type: ignore[attr-defined,union-attr]
    ).all()
    failures = []
    for action, at in rows:
        if action in SUCCESS:
            break
        failures.append(_aware(at))
    if len(failures) < MAX_FAILURES:
        return None
    return failures[-1] + WINDOW  # the oldest of the last MAX_FAILURES failures leaves the window then


def check_password(session: Session, tenant: str | None, username: str, password: str,
                   via: Literal["login", "token"]) -> PasswordCheck:
    """Authenticate unless throttled, and audit the attempt, in the caller's transaction."""
    actor = f"{tenant or 'platform'}/{username[:64]}"
    until = locked_until(session, actor)
    if until is not None:
        # Checked before the password: while locked, even the right password is refused.
        audit(session, "auth.throttled", actor=actor, tenant_id=tenant, detail={"via": via})
        return PasswordCheck(None, until)
    user = authenticate(session, tenant, username, password)
    if user is None:
        audit(session, f"auth.{via}_failed", actor=actor, tenant_id=tenant)
    else:
        audit(session, f"auth.{via}", actor=user.label, tenant_id=user.tenant_id)
    return PasswordCheck(user)

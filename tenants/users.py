"""Web users (per tenant, with a role) and the clerks' field corrections.

Passwords are hashed with argon2id (argon2-cffi); a hash is re-computed on login when
the library's recommended parameters change. Corrections are kept row by row: they are
the ground truth for measuring OCR accuracy on real documents later.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import JSON, Column, DateTime, String, UniqueConstraint, select
from sqlmodel import Field, Session, SQLModel

from .models import utcnow

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


class Role(StrEnum):
    clerk = "clerk"
    tenant_admin = "tenant_admin"
    platform_admin = "platform_admin"


class User(SQLModel, table=True):
    """A person who logs in to the web UI. Platform administrators belong to no tenant."""

    __tablename__ = "web_user"
    __table_args__ = (UniqueConstraint("tenant_id", "username", name="uq_web_user_tenant_username"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str | None = Field(default=None, foreign_key="tenant.id", index=True, max_length=64)
    username: str = Field(max_length=64)
    display_name: str = ""
    role: Role = Field(default=Role.clerk, sa_type=String(32))
    password_hash: str = Field(max_length=200)
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    last_login_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.tenant_admin, Role.platform_admin)

    @property
    def label(self) -> str:
        """actor string for the audit log: ``tenant/username`` or ``platform/username``."""
        return f"{self.tenant_id or 'platform'}/{self.username}"


class FieldCorrection(SQLModel, table=True):
    """One value a clerk changed on the review screen (OCR value -> corrected value)."""

    __tablename__ = "field_correction"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=64)
    document_id: int = Field(foreign_key="document.id", index=True)
    field: str = Field(max_length=100, description="field name; table cells as 'children.0.name'")
    field_type: str = Field(default="", max_length=32)
    ocr_value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    corrected_value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    confidence: float = 0.0
    user_id: int | None = Field(default=None, foreign_key="web_user.id")
    username: str = Field(default="", max_length=64)
    time: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class UserError(ValueError):
    """A user could not be created (duplicate, weak password, unknown role)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: Session, *, tenant_id: str | None, username: str, role: Role | str,
                password: str, display_name: str = "") -> User:
    """Add a user; clerks and tenant admins need a tenant, platform admins have none."""
    role = Role(role)
    username = username.strip()
    if not username or len(username) > 64:
        raise UserError("username must be 1-64 characters")
    if role is Role.platform_admin:
        tenant_id = None
    elif not tenant_id:
        raise UserError(f"role {role.value} needs --tenant")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if find_user(session, tenant_id, username) is not None:
        raise UserError(f"user '{username}' already exists in {tenant_id or 'the platform'}")
    user = User(tenant_id=tenant_id, username=username, role=role, password_hash=hash_password(password),
                display_name=display_name or username)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, tenant_id: str | None, username: str) -> User | None:
    cond = User.tenant_id.is_(None) if not tenant_id else User.tenant_id == tenant_id  # type: ignore[union-attr]
    stmt = select(User).where(cond, User.username == username)
    return session.exec(stmt).scalars().first()  # type: ignore[call-overload]


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = hash_password(password)
    session.add(user)


def authenticate(session: Session, tenant_id: str | None, username: str, password: str) -> User | None:
    """The enabled user whose password matches, else None (same answer for unknown users)."""
    user = find_user(session, tenant_id, username)
    if user is None or not user.enabled:
        # Hash anyway so an unknown name takes as long as a wrong password.
        _hasher.hash(password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.add(user)
    return user

"""Tenant isolation through one mechanism: a tenant-scoped session.

A session opened with :func:`tenant_session` adds ``WHERE <tenant column> = :tenant`` to
every ORM query on every tenant-owned model (``with_loader_criteria``), refuses to flush
a row that belongs to another tenant, and on PostgreSQL sets ``app.tenant_id`` for the
transaction so row-level security policies apply to raw SQL as well. Call sites do not
have to remember the filter.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlmodel import Session, SQLModel

from .db import session_scope

TENANT_KEY = "kyodo_tenant_id"
UNSCOPED = "kyodo_unscoped"


class CrossTenantError(PermissionError):
    """An attempt to read or write another municipality's rows."""


def tenant_column(model: type) -> str | None:
    """The column that names a row's tenant: ``__tenant_column__`` or ``tenant_id``."""
    explicit = getattr(model, "__tenant_column__", None)
    if explicit:
        return explicit
    table = getattr(model, "__table__", None)
    if table is not None and "tenant_id" in table.c:
        return "tenant_id"
    return None


def _tenant_models() -> list[type]:
    out = []
    for mapper in SQLModel._sa_registry.mappers:  # type: ignore[attr-defined]
        cls = mapper.class_
        if tenant_column(cls):
            out.append(cls)
    return out


@event.listens_for(Session, "do_orm_execute")
def _scope_queries(state: ORMExecuteState) -> None:
    tid = state.session.info.get(TENANT_KEY)
    if tid is None or not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get(UNSCOPED):  # platform-wide reads such as the audit chain
        return
    # A plain expression per concrete model: simple and cached per (model, tenant).
    options = [with_loader_criteria(model, getattr(model, tenant_column(model)) == tid) for model in _tenant_models()]  # type: ignore[arg-type]
    state.statement = state.statement.options(*options)


@event.listens_for(Session, "before_flush")
def _guard_writes(session: Session, _ctx, _instances) -> None:  # noqa: ANN001
    tid = session.info.get(TENANT_KEY)
    if tid is None:
        return
    for obj in list(session.new) + list(session.dirty):
        col = tenant_column(type(obj))
        if col and getattr(obj, col) not in (tid, None):
            raise CrossTenantError(f"{type(obj).__name__} of tenant '{getattr(obj, col)}' written in a session of '{tid}'")
        if col and getattr(obj, col) is None:
            setattr(obj, col, tid)


@event.listens_for(Session, "after_begin")
def _set_rls_tenant(session: Session, _transaction, connection) -> None:  # noqa: ANN001
    tid = session.info.get(TENANT_KEY)
    if tid is not None and connection.dialect.name == "postgresql":
        connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": tid})


@contextmanager
def tenant_session(tenant_id: str, engine: Engine | None = None) -> Iterator[Session]:
    """A unit of work that sees and writes only *tenant_id*'s rows; commits on success."""
    with session_scope(engine, info={TENANT_KEY: tenant_id}) as session:
        yield session


def deny_cross_tenant(session: Session, actor: str, tenant_id: str | None, target: str, *,
                      owner_tenant_id: str | None = None, reason: str = "") -> CrossTenantError:
    """Record a denied cross-tenant attempt in the audit log and return the error to raise.

    ``tenant_id`` is the tenant the actor acts for, ``target`` what was asked for (e.g.
    ``document/42``), ``owner_tenant_id`` whose it is when known. The audit row is added
    to *session*; the caller commits it (e.g. before answering 403/404)::

        raise deny_cross_tenant(session, user.name, user.tenant_id, f"document/{doc_id}")
    """
    from .audit import audit

    detail = {"owner_tenant_id": owner_tenant_id, "reason": reason} if owner_tenant_id or reason else {}
    audit(session, "access.denied", actor=actor, tenant_id=tenant_id, target=target, detail=detail)
    return CrossTenantError(f"{actor} ({tenant_id or 'platform'}) may not access {target}")

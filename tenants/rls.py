"""PostgreSQL row-level security for tenant-owned tables.

The ORM scoping in :mod:`tenants.scope` covers queries made through a tenant session;
RLS covers everything else on PostgreSQL (raw SQL, a report tool connected with the
application role). :func:`tenants.scope.tenant_session` sets ``app.tenant_id`` for each
transaction; the policy lets a row through when it belongs to that tenant. With no
tenant set (the platform: workers, migrations, the allocation across all members) every
row is visible, as before.

Superusers and ``BYPASSRLS`` roles skip RLS entirely: the application must connect with
an ordinary role (e.g. ``kyodo_app``) for the policies to bite. ``FORCE`` makes them apply
to the tables' owner too.
"""
from __future__ import annotations

import re

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

POLICY = "kyodo_tenant_isolation"
# Foundation tables and the column naming their tenant.
FOUNDATION_TABLES: dict[str, str] = {"document": "tenant_id", "job": "tenant_id", "usage_event": "subject",
                                     "audit_event": "tenant_id"}
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def _condition(column: str) -> str:
    setting = "current_setting('app.tenant_id', true)"
    # NULL: never set in this session; '': set earlier with is_local and reset at commit.
    return f"(coalesce({setting}, '') = '' OR {column} = {setting})"


def enable_rls(conn: Connection, table: str, column: str = "tenant_id") -> bool:
    """ENABLE + FORCE row-level security with the tenant policy on *table*; idempotent.

    Returns False (and does nothing) on a database other than PostgreSQL.
    """
    if conn.dialect.name != "postgresql":
        return False
    if not (_IDENT.match(table) and _IDENT.match(column)):
        raise ValueError(f"unsafe identifier {table!r}.{column!r}")
    cond = _condition(column)
    conn.execute(text(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY'))
    conn.execute(text(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY'))
    conn.execute(text(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"'))
    conn.execute(text(f'CREATE POLICY {POLICY} ON "{table}" USING {cond} WITH CHECK {cond}'))
    return True


def disable_rls(conn: Connection, table: str) -> None:
    if conn.dialect.name != "postgresql":
        return
    conn.execute(text(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"'))
    conn.execute(text(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY'))
    conn.execute(text(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY'))


def tenant_tables(conn: Connection) -> dict[str, str]:
    """Foundation tables plus every table with a NOT NULL ``tenant_id`` column.

    Tables whose ``tenant_id`` may be NULL (platform-wide rows such as platform
    administrators) are left to their owners: hiding them from a tenant may be wrong.
    """
    insp = inspect(conn)
    names = set(insp.get_table_names())
    out = {t: c for t, c in FOUNDATION_TABLES.items() if t in names}
    for table in sorted(names - set(out)):
        for col in insp.get_columns(table):
            if col["name"] == "tenant_id" and not col.get("nullable", True):
                out[table] = "tenant_id"
    return out


def ensure_rls(engine_or_conn: Engine | Connection) -> list[str]:
    """Apply the policy to every tenant table (idempotent); returns the tables covered.

    Migrations of other areas may add tenant tables after this branch ran; calling this
    after ``upgrade`` covers them too.
    """
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.begin() as conn:
            return ensure_rls(conn)
    conn = engine_or_conn
    if conn.dialect.name != "postgresql":
        return []
    tables = tenant_tables(conn)
    for table, column in tables.items():
        enable_rls(conn, table, column)
    return sorted(tables)


def rls_status(conn: Connection) -> dict[str, bool]:
    """Per tenant table: whether RLS is enabled and forced (PostgreSQL only)."""
    if conn.dialect.name != "postgresql":
        return {}
    rows = conn.execute(text(
        "SELECT c.relname, c.relrowsecurity AND c.relforcerowsecurity FROM pg_class c "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
    )).all()
    status = dict(rows)
    return {t: bool(status.get(t)) for t in tenant_tables(conn)}

"""Mirror valid tenant files into the tenant table, so rows can reference tenants."""
from __future__ import annotations

from sqlmodel import Session

from .loader import LoadReport
from .models import Tenant, utcnow


def sync_tenants(session: Session, report: LoadReport) -> list[str]:
    """Insert or update a row per valid tenant file; return the ids synced.

    Tenants whose file is broken keep their existing row (their work continues on the
    last good configuration's identity); nothing is deleted.
    """
    synced = []
    for tid, loaded in sorted(report.tenants.items()):
        cfg = loaded.config
        row = session.get(Tenant, tid)
        if row is None:
            row = Tenant(id=tid, display_name=cfg.display_name, population=cfg.population, enabled=cfg.enabled)
            session.add(row)
        else:
            row.display_name, row.population, row.enabled = cfg.display_name, cfg.population, cfg.enabled
            row.updated_at = utcnow()
        synced.append(tid)
    session.flush()
    return synced

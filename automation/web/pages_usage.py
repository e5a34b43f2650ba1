"""Usage, quotas and licence seats; the platform administrator also sees every municipality
and the fiscal year's cost allocation with its chart. Figures come from the metering
helpers (tenants.metering / quotas / allocation / licensing); this module only shows them."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from tenants.allocation import allocate
from tenants.billing import BillingConfigError, load_billing
from tenants.db import session_scope
from tenants.licensing import PoolsFileError, load_pools, seats_of
from tenants.metering import current_month, fiscal_year_of, meter_totals
from tenants.models import utcnow
from tenants.quotas import check_quota
from tenants.users import Role, User

from .auth import require, user_session
from .common import engine_of, render

router = APIRouter(include_in_schema=False)
Admin = Annotated[User, Depends(require(Role.tenant_admin, Role.platform_admin))]
Platform = Annotated[User, Depends(require(Role.platform_admin))]


def _quota_rows(s: Any, tenants: dict, tenant_ids: list[str], month: str, titles: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for tid in tenant_ids:
        cfg = tenants.get(tid)
        if cfg is None:
            continue
        for meter in sorted(cfg.quotas):
            q = check_quota(s, cfg, meter, month=month)
            pct = min(100.0, q.used / q.limit * 100) if q.limit else 0.0
            rows.append({"tenant": cfg.display_name, "meter": meter, "title": titles.get(meter, meter), "used": q.used, "limit": q.limit,
                         "warn_at": q.warn_at, "state": q.state, "pct": pct, "message": q.message_ja})
    return rows


def _seat_rows(s: Any, user: User, tenants: dict) -> tuple[list[dict[str, Any]], str]:
    try:
        pools = load_pools()
    except PoolsFileError as e:
        return [], f"ライセンスプールの設定ファイルに誤りがあります: {e}"
    out = []
    for name, pool in sorted(pools.items()):
        members = sorted({tid for tid, c in tenants.items() if name in c.pools} | set(pool.members))
        if user.tenant_id and user.tenant_id not in members:
            continue
        seats = seats_of(s, pool)
        view = []
        for seat in seats:
            own = seat.tenant_id == user.tenant_id or user.role == Role.platform_admin
            # Another municipality's job ids are theirs: a tenant admin sees only that the seat is busy.
            holder = (tenants[seat.tenant_id].display_name if seat.tenant_id in tenants else seat.tenant_id) if own else "他の自治体"
            view.append({"no": seat.seat_no + 1, "busy": seat.busy, "holder": holder if seat.busy else "",
                         "job_id": seat.job_id if (seat.busy and own) else None, "since": seat.acquired_at})
        out.append({"name": name, "description": pool.description, "seats": pool.seats,
                    "busy": sum(v["busy"] for v in view), "cap": pool.cap_for(user.tenant_id) if user.tenant_id else None,
                    "members": [tenants[m].display_name if m in tenants else m for m in members], "view": view})
    return out, ""


@router.get("/usage")
def usage(request: Request, user: Admin, month: str = ""):  # noqa: ANN201
    tenants = request.app.state.tenant_configs
    month = month or current_month()
    platform = user.role == Role.platform_admin
    problem = ""
    try:
        billing = load_billing()
    except BillingConfigError as e:
        billing, problem = None, f"課金設定ファイルに誤りがあります: {e}"
    with user_session(engine_of(request), user) as s:
        try:
            totals = meter_totals(s, month=month, tenant_id=None if platform else user.tenant_id, group=False,
                                  billing=billing) if billing else []
        except ValueError:
            raise HTTPException(status_code=422, detail="月は 2024-04 の形で指定してください") from None
        titles = {name: m.title or name for name, m in billing.meters.items()} if billing else {}
        quotas = _quota_rows(s, tenants, sorted(tenants) if platform else [user.tenant_id], month, titles)
    with session_scope(engine_of(request)) as s:  # seats are platform rows; _seat_rows hides others' jobs
        pools, pool_problem = _seat_rows(s, user, tenants)
    meters = [(name, m.title or name, m.unit) for name, m in sorted(billing.meters.items())] if billing else []
    table: dict[str, dict[str, float]] = {}
    for t in totals:
        table.setdefault(t.tenant_id, {})[t.meter] = table.get(t.tenant_id, {}).get(t.meter, 0) + t.value
    shown_tenants = sorted(tenants) if platform else [user.tenant_id]
    allocation = None
    fy = fiscal_year_of(utcnow())
    if platform and billing:
        with session_scope(engine_of(request)) as s:
            allocation = allocate(s, fy, billing=billing, tenants=tenants, drilldown=False)
    return render(request, "usage.html", nav="usage", month=month, meters=meters, table=table, tenants=tenants,
                  shown_tenants=shown_tenants, quotas=quotas, pools=pools, problem=problem or pool_problem,
                  allocation=allocation, fiscal_year=fy, platform=platform)


@router.get("/usage/allocation-{fiscal_year}.png")
def allocation_chart(request: Request, fiscal_year: int, user: Platform):  # noqa: ANN201
    """The allocation chart drawn by tenants.reports (the same PNG as the exported report)."""
    from tenants.reports import write_png

    with session_scope(engine_of(request)) as s:
        report = allocate(s, fiscal_year, tenants=request.app.state.tenant_configs, drilldown=False)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_png(report, Path(tmp))
        if not files:
            raise HTTPException(status_code=404, detail="グラフを作成できませんでした")
        return Response(files[0].read_bytes(), media_type="image/png", headers={"Cache-Control": "private, max-age=60"})

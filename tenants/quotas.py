"""Monthly quotas per tenant and meter (``[quotas."ocr.page"] monthly_limit, warn_ratio``).

The runner calls :func:`check_job_quotas` before it starts a job, with the usage the job
is expected to add; a refusal names the quota, the usage and the limit in Japanese and
English and is written to the audit log in the caller's transaction.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlmodel import Session

from .audit import audit
from .billing import BillingConfig, load_billing
from .config import TenantConfig
from .metering import current_month, meter_value

QuotaState = Literal["unlimited", "ok", "warning", "exceeded"]


def _n(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


class QuotaStatus(BaseModel):
    tenant_id: str
    meter: str
    month: str
    used: float = Field(description="usage so far this month")
    adding: float = 0
    limit: float | None = None
    warn_at: float | None = None
    state: QuotaState

    @property
    def allowed(self) -> bool:
        return self.state != "exceeded"

    @property
    def projected(self) -> float:
        return self.used + self.adding

    @property
    def message_en(self) -> str:
        if self.limit is None:
            return f"{self.tenant_id}: no quota for '{self.meter}' ({_n(self.used)} used in {self.month})"
        what = {"ok": "within quota", "warning": "quota warning", "exceeded": "quota exceeded"}[self.state]
        return (f"{what}: {self.tenant_id} meter '{self.meter}' in {self.month}: used {_n(self.used)}"
                f"{f' + {_n(self.adding)} for this job' if self.adding else ''} of monthly limit {_n(self.limit)}"
                f" (warning from {_n(self.warn_at or 0)})")

    @property
    def message_ja(self) -> str:
        if self.limit is None:
            return f"{self.meter} の上限は設定されていません（{self.month} の利用量 {_n(self.used)}）"
        head = {"ok": "上限内です", "warning": "利用量が警告値に達しました", "exceeded": "月間上限を超えるため処理を停止しました"}[self.state]
        adding = f"、今回の処理で +{_n(self.adding)}" if self.adding else ""
        return (f"{head}: 利用枠「{self.meter}」{self.month} の利用量 {_n(self.used)}{adding}"
                f"（月間上限 {_n(self.limit)}、警告値 {_n(self.warn_at or 0)}）")


class QuotaExceeded(RuntimeError):
    """A job would exceed a hard monthly limit."""

    def __init__(self, status: QuotaStatus):
        self.status = status
        self.message_ja = status.message_ja
        super().__init__(status.message_en)


def check_quota(session: Session, tenant: TenantConfig, meter: str, adding: float = 0, *,
                month: str | None = None, billing: BillingConfig | None = None) -> QuotaStatus:
    """Where *tenant* stands on *meter* this month if *adding* more were used (reads only)."""
    month = month or current_month()
    used = meter_value(session, meter, tenant.id, month=month, billing=billing or load_billing())
    quota = tenant.quotas.get(meter)
    if quota is None:
        return QuotaStatus(tenant_id=tenant.id, meter=meter, month=month, used=used, adding=adding, state="unlimited")
    warn_at = quota.monthly_limit * quota.warn_ratio
    projected = used + adding
    state: QuotaState = "exceeded" if projected > quota.monthly_limit else "warning" if projected >= warn_at else "ok"
    return QuotaStatus(tenant_id=tenant.id, meter=meter, month=month, used=used, adding=adding,
                       limit=quota.monthly_limit, warn_at=warn_at, state=state)


class QuotaDecision(BaseModel):
    allowed: bool
    statuses: list[QuotaStatus] = Field(default_factory=list)

    @property
    def refused(self) -> list[QuotaStatus]:
        return [s for s in self.statuses if s.state == "exceeded"]

    @property
    def warnings(self) -> list[QuotaStatus]:
        return [s for s in self.statuses if s.state == "warning"]

    @property
    def message_ja(self) -> str:
        return "\n".join(s.message_ja for s in self.refused or self.warnings)

    @property
    def message_en(self) -> str:
        return "\n".join(s.message_en for s in self.refused or self.warnings)


def check_job_quotas(session: Session, tenant: TenantConfig, adding: dict[str, float] | None = None, *,
                     job_id: int | None = None, actor: str = "runner", billing: BillingConfig | None = None,
                     month: str | None = None) -> QuotaDecision:
    """Call before starting a job: checks every quota of the tenant (plus meters in *adding*).

    Refusals are audited as ``quota.refused`` and warnings as ``quota.warning``, in the
    caller's transaction: the caller commits together with marking the job refused.
    """
    billing = billing or load_billing()
    adding = adding or {}
    statuses = []
    for meter in sorted(set(tenant.quotas) | set(adding)):
        if meter not in billing.meters:
            continue  # a quota on an undeclared meter is reported by `kyodo usage report`
        st = check_quota(session, tenant, meter, adding.get(meter, 0), month=month, billing=billing)
        statuses.append(st)
        if st.state in ("exceeded", "warning"):
            audit(session, "quota.refused" if st.state == "exceeded" else "quota.warning", actor=actor,
                  tenant_id=tenant.id, target=f"job/{job_id}" if job_id is not None else "",
                  detail={"meter": meter, "month": st.month, "used": st.used, "adding": st.adding,
                          "limit": st.limit, "message_ja": st.message_ja})
    return QuotaDecision(allowed=all(s.allowed for s in statuses), statuses=statuses)


def enforce_job_quotas(session: Session, tenant: TenantConfig, adding: dict[str, float] | None = None, **kw) -> QuotaDecision:  # noqa: ANN003
    """Like :func:`check_job_quotas`, but raises :class:`QuotaExceeded` (after flushing the audit row)."""
    decision = check_job_quotas(session, tenant, adding, **kw)
    if not decision.allowed:
        raise QuotaExceeded(decision.refused[0])
    return decision

"""Cost allocation among member municipalities, in whole yen.

Each cost item of ``_billing.toml`` is split the way joint-processing ordinances do it:
first the cost into its parts (基本割 / 人口割 / 実績割) by the rule's ratios, then each part
among the members — equally, by resident population (tenant file), or by usage (chosen
meters over the fiscal year). Every split uses the largest-remainder rule on exact
fractions, so each part and each item add up to the yen exactly and no share is negative.

Defined edge cases: a part whose basis is zero for every member (no usage yet, no
population given) is split equally and the report says so; an item with no members is
left unallocated and flagged.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, Field
from sqlmodel import Session

from .billing import AllocationRule, BillingConfig, CostItem, load_billing
from .config import TenantConfig
from .metering import fiscal_year_period, meter_totals, usage_by_job
from .models import utcnow

PartKind = Literal["base", "population", "usage"]
PART_LABELS: dict[str, str] = {"base": "基本割", "population": "人口割", "usage": "実績割"}


def _exact(w: float | int | Fraction) -> Fraction:
    # A float ratio from a file means its decimal (0.15 is 15%), not the nearest binary double.
    return Fraction(repr(w)) if isinstance(w, float) else Fraction(w)


def largest_remainder(total: int, weights: Mapping[str, float | int | Fraction]) -> dict[str, int]:
    """Split *total* whole yen in proportion to *weights*; the parts add up to *total* exactly.

    Floors first, then one yen each to the largest fractional remainders; ties go to the
    key that comes first (callers pass keys in a stable order). Raises ValueError on a
    negative total or weight, or when the weights are all zero but there is yen to split.
    """
    if total < 0:
        raise ValueError(f"cannot split a negative amount ({total})")
    exact = {k: _exact(w) for k, w in weights.items()}
    if any(w < 0 for w in exact.values()):
        raise ValueError("weights must not be negative")
    if total == 0:
        return {k: 0 for k in exact}
    wsum = sum(exact.values(), Fraction(0))
    if wsum == 0:
        raise ValueError("all weights are zero: nothing to split by")
    quotas = {k: total * w / wsum for k, w in exact.items()}
    shares = {k: int(q.numerator // q.denominator) for k, q in quotas.items()}
    left = total - sum(shares.values())
    order = sorted(exact, key=lambda k: -(quotas[k] - shares[k]))  # stable: ties keep key order
    for k in order[:left]:
        shares[k] += 1
    return shares


class PartSplit(BaseModel):
    kind: PartKind
    label: str
    ratio: float
    amount_yen: int
    basis: dict[str, float] = Field(description="per member: 1 (equal), population, or weighted usage")
    shares: dict[str, int]
    note: str = ""


class JobShare(BaseModel):
    """The yen of a member's 実績割 traced back to the jobs whose usage caused it."""

    job_id: int | None
    usage: float
    yen: int


class ItemAllocation(BaseModel):
    id: str
    name: str
    pool: str
    amount_yen: int = Field(description="annual amount for the fiscal year")
    rule: AllocationRule
    members: list[str]
    parts: list[PartSplit] = Field(default_factory=list)
    shares: dict[str, int] = Field(default_factory=dict)
    drilldown: dict[str, list[JobShare]] = Field(default_factory=dict)
    note: str = ""

    @property
    def unallocated_yen(self) -> int:
        return self.amount_yen - sum(self.shares.values())


class MemberInfo(BaseModel):
    id: str
    display_name: str
    population: int = 0


class AllocationReport(BaseModel):
    fiscal_year: int
    generated_at: datetime = Field(default_factory=utcnow)
    members: dict[str, MemberInfo] = Field(default_factory=dict)
    items: list[ItemAllocation] = Field(default_factory=list)
    usage: dict[str, dict[str, float]] = Field(default_factory=dict, description="tenant -> meter -> fiscal-year total")

    @property
    def totals(self) -> dict[str, int]:
        out = {tid: 0 for tid in self.members}
        for item in self.items:
            for tid, yen in item.shares.items():
                out[tid] = out.get(tid, 0) + yen
        return out

    @property
    def total_yen(self) -> int:
        return sum(i.amount_yen for i in self.items)

    def name(self, tid: str) -> str:
        m = self.members.get(tid)
        return m.display_name if m else tid


def _members(item: CostItem, tenants: Mapping[str, TenantConfig]) -> list[str]:
    if item.members:
        return sorted(item.members)
    return sorted(tid for tid, t in tenants.items() if item.pool in t.pools)


def split_item(item: CostItem, members: list[str], population: Mapping[str, int],
               usage: Mapping[str, float]) -> ItemAllocation:
    """Pure allocation of one item (no database): parts, then members, all in whole yen."""
    alloc = ItemAllocation(id=item.id, name=item.name, pool=item.pool, amount_yen=item.annual_yen,
                           rule=item.rule, members=members)
    if not members:
        alloc.note = "構成団体がないため按分できません (no members in this pool)"
        return alloc
    ratios = {k: r for k, r in (("base", item.rule.base), ("population", item.rule.population),
                                ("usage", item.rule.usage)) if r > 0}
    part_yen = largest_remainder(item.annual_yen, ratios)
    shares = {tid: 0 for tid in members}
    for kind, amount in part_yen.items():
        note = ""
        if kind == "base":
            basis: dict[str, float] = {tid: 1 for tid in members}
        elif kind == "population":
            basis = {tid: float(population.get(tid, 0)) for tid in members}
        else:
            basis = {tid: float(usage.get(tid, 0.0)) for tid in members}
        if amount > 0 and sum(basis.values()) <= 0:
            note = ("人口が未設定のため均等に按分" if kind == "population" else "実績がないため均等に按分")
            split = largest_remainder(amount, {tid: 1 for tid in members})
        else:
            split = largest_remainder(amount, basis)
        for tid, yen in split.items():
            shares[tid] += yen
        alloc.parts.append(PartSplit(kind=kind, label=PART_LABELS[kind], ratio=ratios[kind], amount_yen=amount,  # type: ignore[arg-type]
                                     basis=basis, shares=split, note=note))
    alloc.shares = shares
    return alloc


def _weighted_usage(totals: Mapping[str, Mapping[str, float]], rule: AllocationRule) -> dict[str, float]:
    return {tid: sum(w * per.get(m, 0.0) for m, w in rule.usage_meters.items()) for tid, per in totals.items()}


def _drilldown(session: Session, item: ItemAllocation, fiscal_year: int, billing: BillingConfig) -> None:
    usage_part = next((p for p in item.parts if p.kind == "usage"), None)
    if usage_part is None or usage_part.note:
        return
    period = fiscal_year_period(fiscal_year)
    for tid, yen in usage_part.shares.items():
        per_job: dict[int | None, float] = {}
        for meter, weight in item.rule.usage_meters.items():
            for job, v in usage_by_job(session, meter, period, tid, billing).items():
                per_job[job] = per_job.get(job, 0.0) + weight * v
        per_job = {j: v for j, v in per_job.items() if v > 0}
        if not per_job:
            continue
        keys = sorted(per_job, key=lambda j: (j is None, j or 0))
        split = largest_remainder(yen, {str(j): per_job[j] for j in keys})
        item.drilldown[tid] = [JobShare(job_id=j, usage=per_job[j], yen=split[str(j)]) for j in keys]


def allocate(session: Session, fiscal_year: int, *, billing: BillingConfig | None = None,
             tenants: Mapping[str, TenantConfig] | None = None, drilldown: bool = True) -> AllocationReport:
    """Allocate every cost item of the billing file for *fiscal_year* (April–March)."""
    billing = billing or load_billing()
    if tenants is None:
        from .loader import load_all

        tenants = {tid: t.config for tid, t in load_all().tenants.items()}
    report = AllocationReport(fiscal_year=fiscal_year)
    meters = sorted({m for item in billing.cost_items for m in item.rule.usage_meters})
    totals: dict[str, dict[str, float]] = {}
    if meters:
        for mt in meter_totals(session, fiscal_year=fiscal_year, meters=meters, billing=billing, group=False):
            totals.setdefault(mt.tenant_id, {})[mt.meter] = mt.value
    for item in billing.cost_items:
        members = _members(item, tenants)
        for tid in members:
            cfg = tenants.get(tid)
            report.members.setdefault(tid, MemberInfo(id=tid, display_name=cfg.display_name if cfg else tid,
                                                      population=cfg.population if cfg else 0))
        population = {tid: report.members[tid].population for tid in members}
        usage = _weighted_usage({tid: totals.get(tid, {}) for tid in members}, item.rule)
        alloc = split_item(item, members, population, usage)
        if drilldown:
            _drilldown(session, alloc, fiscal_year, billing)
        report.items.append(alloc)
    report.usage = {tid: totals.get(tid, {}) for tid in report.members}
    return report

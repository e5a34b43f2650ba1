"""Billing configuration (``tenants/_billing.toml``): meters, cost items and allocation rules.

The file is the platform's, not a municipality's (the tenant loader skips files that
start with ``_``). Meters follow OpenMeter's shape: an event type, an aggregation over
a value path, optional group-by paths. Cost items follow the joint-processing bodies'
ordinances (一部事務組合 / 広域連合): a cost is split 基本割(均等割) / 人口割 / 実績割.
"""
from __future__ import annotations

import re
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .settings import get_settings

BILLING_FILE = "_billing.toml"
# A value path is a column ("value", "job_id", "subject", "source") or "data.<key>[.<key>…]".
VALUE_PATH_RE = r"^(value|job_id|subject|source|event_id|data(\.[A-Za-z0-9_-]+)+)$"
ValuePath = Annotated[str, Field(pattern=VALUE_PATH_RE)]


class Aggregation(StrEnum):
    SUM = "SUM"
    COUNT = "COUNT"
    MAX = "MAX"
    UNIQUE_COUNT = "UNIQUE_COUNT"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Meter(_Strict):
    """One billable metric over usage events."""

    event_type: str = Field(min_length=1)
    aggregation: Aggregation = Aggregation.SUM
    value: ValuePath = "value"
    group_by: list[ValuePath] = Field(default_factory=list)
    title: str = Field(default="", description="Japanese label for reports, e.g. 'OCR ページ数'")
    unit: str = ""


class AllocationRule(_Strict):
    """基本割 (equal) + 人口割 (population) + 実績割 (usage) ratios; they must add up to 1."""

    base: float = Field(default=0.0, ge=0, le=1, description="基本割 / 均等割")
    population: float = Field(default=0.0, ge=0, le=1, description="人口割")
    usage: float = Field(default=0.0, ge=0, le=1, description="実績割")
    usage_meters: dict[str, float] = Field(
        default_factory=dict, description="meter name -> weight; 実績 = Σ weight × meter total over the fiscal year"
    )

    @model_validator(mode="after")
    def _sums_to_one(self) -> "AllocationRule":
        total = self.base + self.population + self.usage
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"base + population + usage must add up to 1 (100%), got {total:g}")
        if self.usage > 0 and not self.usage_meters:
            raise ValueError("usage (実績割) > 0 needs usage_meters, e.g. usage_meters = { \"rpa.robot_seconds\" = 1 }")
        if any(w < 0 for w in self.usage_meters.values()):
            raise ValueError("usage_meters weights must not be negative")
        return self


class CostItem(_Strict):
    """A pool's cost (licences, servers, scenario development) and how it is split."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]
    name: str = Field(min_length=1, description="Japanese name, e.g. 'RPA ライセンス'")
    pool: str = Field(min_length=1, description="licence pool; members are tenants listing it under pools")
    amount_yen: int = Field(ge=0, description="cost per period in whole yen (tax included)")
    period: Literal["year", "month"] = Field(default="year", description="'month' amounts are multiplied by 12")
    members: list[str] = Field(default_factory=list, description="explicit member tenants (default: the pool's members)")
    rule: AllocationRule

    @property
    def annual_yen(self) -> int:
        return self.amount_yen * (12 if self.period == "month" else 1)


DEFAULT_METERS: dict[str, Meter] = {
    "ocr.page": Meter(event_type="ocr.page", title="OCR ページ数", unit="ページ"),
    "ocr.field": Meter(event_type="ocr.field", title="OCR 項目数", unit="項目"),
    "ocr.review": Meter(event_type="ocr.review", title="目視確認件数", unit="件"),
    "rpa.record": Meter(event_type="rpa.record", title="RPA 処理件数", unit="件"),
    "rpa.run": Meter(event_type="rpa.run", aggregation=Aggregation.COUNT, title="RPA 実行回数", unit="回"),
    "rpa.robot_seconds": Meter(event_type="rpa.robot_seconds", title="ロボット稼働秒数", unit="秒"),
    "asr.audio_seconds": Meter(event_type="asr.audio_seconds", title="音声認識秒数", unit="秒"),
    "storage.bytes": Meter(event_type="storage.bytes", aggregation=Aggregation.MAX, title="保存容量", unit="バイト"),
}


class BillingConfig(_Strict):
    meters: dict[str, Meter] = Field(default_factory=dict)
    cost_items: list[CostItem] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> "BillingConfig":
        merged = {**DEFAULT_METERS, **self.meters}
        self.meters = merged
        seen: set[str] = set()
        for item in self.cost_items:
            if item.id in seen:
                raise ValueError(f"cost item id '{item.id}' appears twice")
            seen.add(item.id)
            for m in item.rule.usage_meters:
                if m not in merged:
                    raise ValueError(f"cost item '{item.id}' uses meter '{m}', which is not declared under [meters] "
                                     f"(known: {', '.join(sorted(merged))})")
        return self

    def meter(self, name: str) -> Meter:
        try:
            return self.meters[name]
        except KeyError:
            raise KeyError(f"unknown meter '{name}' (known: {', '.join(sorted(self.meters))})") from None


class BillingConfigError(ValueError):
    """The billing file is broken; the message names the file and the field path."""


def billing_path(tenants_dir: Path | None = None) -> Path:
    return (tenants_dir or get_settings().tenants_dir) / BILLING_FILE


def load_billing(path: Path | None = None) -> BillingConfig:
    """Load ``_billing.toml``; a missing file gives the default meters and no cost items."""
    path = path or billing_path()
    if not path.is_file():
        return BillingConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise BillingConfigError(f"{path}: TOML syntax error: {e}") from None
    try:
        return BillingConfig.model_validate(data)
    except ValidationError as e:
        lines = [f"{path}: {'.'.join(str(p) for p in err['loc']) or '(file)'}: {re.sub(r'^Value error, ', '', err['msg'])}"
                 for err in e.errors()]
        raise BillingConfigError("\n".join(lines)) from None

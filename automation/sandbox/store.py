"""The sandbox's in-memory store and its server-side validation of a 現況届.

One :class:`SandboxStore` per sandbox instance (tests start many in parallel). Values
are kept exactly as submitted so tests can compare every stored field with the input.
Duplicate reports are *accepted* on purpose: a real system does not always refuse
them, so the robot's guard (not the server) must keep re-runs idempotent.
"""
from __future__ import annotations

import re
import threading
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

PENSION_TYPES = ("厚生年金", "国民年金", "共済組合")
RELATIONS = ("長男", "長女", "次男", "次女", "三男", "三女", "四男", "四女", "五男", "五女", "子")
MAX_CHILDREN = 3
_KATAKANA = re.compile(r"^[\u30a0-\u30ff\u3000 ]+$")


class Recipient(BaseModel):
    recipient_number: str = Field(pattern=r"^\d{7}$")
    recipient_name: str
    recipient_kana: str = ""
    address: str = ""


class Faults(BaseModel):
    """Misbehaviour on request, so tests can prove the robot's retries."""

    slow_ms: int = Field(default=0, ge=0, le=30_000, description="delay every page by this much")
    fail_next: int = Field(default=0, ge=0, description="answer the next N matching requests with HTTP 500")
    fail_path: str = Field(default="", description="only requests whose path contains this (empty: any)")
    fail_method: str = Field(default="", description="only this HTTP method (empty: any)")
    expire_sessions: bool = Field(default=False, description="drop every login session now (one-shot)")


def my_number_check_digit(first11: str) -> int:
    """個人番号 check digit (総務省令 method): weights 2..7,2..6 from the right."""
    digits = [int(c) for c in reversed(first11)]
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(digits, start=1))
    r = total % 11
    return 0 if r <= 1 else 11 - r


def valid_my_number(value: str) -> bool:
    return bool(re.fullmatch(r"\d{12}", value)) and my_number_check_digit(value[:11]) == int(value[11])


def _iso(value: str) -> bool:
    try:
        date.fromisoformat(value)
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))
    except ValueError:
        return False


def validate_report(r: dict[str, Any], labels: dict[str, str]) -> list[str]:
    """Return the system's validation messages (Japanese), empty when the report is valid."""
    errs: list[str] = []
    who = labels["recipient"]
    if not r.get("recipient_name", "").strip():
        errs.append(f"{who}氏名を入力してください。")
    kana = r.get("recipient_kana", "")
    if not kana.strip() or not _KATAKANA.match(kana):
        errs.append("フリガナは全角カタカナで入力してください。")
    if not _iso(r.get("recipient_birth_date", "")):
        errs.append(f"{who}の生年月日が正しくありません。")
    if not re.fullmatch(r"\d{3}-\d{4}", r.get("postal_code", "")):
        errs.append("郵便番号は「123-4567」の形式で入力してください。")
    if not r.get("address", "").strip():
        errs.append("住所を入力してください。")
    if not re.fullmatch(r"0\d{1,4}-\d{1,4}-\d{3,4}", r.get("phone", "")):
        errs.append("電話番号は「026-123-4567」の形式で入力してください。")
    if not valid_my_number(r.get("my_number", "")):
        errs.append(f"{labels['my_number']}が正しくありません（12桁・チェックデジット）。")
    children = r.get("children", [])
    if not children:
        errs.append("児童を1人以上入力してください。")
    for i, c in enumerate(children, start=1):
        if not c.get("name", "").strip():
            errs.append(f"児童{i}の氏名を入力してください。")
        if not _iso(c.get("birth_date", "")):
            errs.append(f"児童{i}の生年月日が正しくありません。")
        if c.get("relation") not in RELATIONS:
            errs.append(f"児童{i}の続柄を選択してください。")
    if r.get("pension_type") not in PENSION_TYPES:
        errs.append("加入年金を選択してください。")
    if not r.get("supervision_confirmed"):
        errs.append("監護の確認にチェックしてください。")
    if not r.get("livelihood_confirmed"):
        errs.append("生計同一の確認にチェックしてください。")
    if not _iso(r.get("submission_date", "")):
        errs.append("提出日が正しくありません。")
    if not r.get("addressed_to", "").strip():
        errs.append("宛先を入力してください。")
    return errs


class SandboxStore:
    """Recipients, entered reports, login sessions and faults of one sandbox instance."""

    def __init__(self, receipt_prefix: str) -> None:
        self._lock = threading.Lock()
        self.recipients: dict[str, Recipient] = {}
        self.reports: list[dict[str, Any]] = []
        self.sessions: set[str] = set()
        self.faults = Faults()
        self.receipt_prefix = receipt_prefix
        self.requests = 0  # page requests served (tests read it to prove state reuse)
        self.logins = 0

    def seed(self, recipients: list[dict[str, Any]]) -> int:
        parsed = [Recipient.model_validate({k: v for k, v in r.items() if k in Recipient.model_fields}) for r in recipients]
        with self._lock:
            for r in parsed:
                self.recipients[r.recipient_number] = r
        return len(parsed)

    def add_report(self, report: dict[str, Any]) -> str:
        with self._lock:
            receipt = f"{self.receipt_prefix}-{len(self.reports) + 1:06d}"
            self.reports.append({**report, "receipt_number": receipt})
            return receipt

    def reports_for(self, recipient_number: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.reports if r["recipient_number"] == recipient_number]

    def reset(self) -> None:
        with self._lock:
            self.recipients.clear()
            self.reports.clear()
            self.sessions.clear()
            self.faults = Faults()

"""``echo``: a quick job kind for tests, the intake benchmark and trying a folder.

It reads the document's file, writes a small JSON result to outbox/, and moves the file
to done/. Payload: ``sleep`` (seconds, to hold a seat for a while), ``fail``
("business" | "application") to exercise the failure paths.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from sqlmodel import Session

from automation.intake import finish_document, result_path, sha256_file
from tenants.models import Document

from .base import ApplicationError, BusinessError, JobContext, Outcome


def handle(ctx: JobContext) -> Outcome:
    p = ctx.payload
    deadline = time.monotonic() + float(p.get("sleep", 0))
    while time.monotonic() < deadline and not ctx.lost():
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    if p.get("fail") == "business":
        raise BusinessError("echo asked to fail (business)", "テスト用の業務エラーです。")
    if p.get("fail") == "application" and ctx.attempt < int(p.get("succeed_on_attempt", 10**6)):
        raise ApplicationError(f"echo asked to fail (application, attempt {ctx.attempt})", "テスト用のアプリケーションエラーです。")
    result = {"job": ctx.job.id, "attempt": ctx.attempt, "pool": ctx.pool}
    doc = ctx.document
    usage = []
    if doc is not None:
        src = Path(doc.path)
        result.update(file=doc.filename, sha256=sha256_file(src) if src.is_file() else doc.sha256, bytes=doc.size)
        out = result_path(ctx.folders, doc, ".echo.json")
        body = json.dumps(result, ensure_ascii=False, indent=1)
        out.write_text(body, encoding="utf-8")  # same content on a retry: idempotent
        usage.append(ctx.usage("storage.bytes", float(len(body.encode())), "outbox"))

    def apply(session: Session) -> None:
        if doc is not None:  # re-read: this may run again after a rolled-back attempt
            d = session.get(Document, doc.id)
            if d is not None:
                finish_document(session, d, outcome="done", tenant=ctx.tenant)

    return Outcome(result=result, usage=usage, apply=apply)

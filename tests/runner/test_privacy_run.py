"""Issue 7's promise on a whole run: the log of an OCR job, the clerk's review and the RPA entry
(real Tesseract, real Chromium, the sandbox business system) contains no valid My Number."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest
from sqlalchemy import select

from automation.logsetup import setup_logging
from automation.review import approve, form_of, review_fields
from automation.runner.service import drain
from ocr.values import valid_my_number
from tenants.models import Document, DocumentStatus
from tenants.scope import tenant_session
from tenants.users import Role, create_user

from .conftest import Platform
from .test_handlers import _configure

TWELVE_DIGITS = re.compile(r"(?<![0-9])[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}(?![0-9])")


def _paper_value(record: dict, key: str):  # noqa: ANN202
    parts = key.split(".")
    value = record.get(parts[0])
    return value[int(parts[1])].get(parts[2]) if len(parts) == 3 else value


@pytest.mark.slow
@pytest.mark.browser
def test_log_of_a_whole_ocr_review_and_rpa_run_has_no_my_number(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    from automation.sandbox import start_sandbox
    from ocr.generate import generate_set

    truth = generate_set(platform.root / "gen", 1, seed=24, variants=("a",), degrade=False)
    row = json.loads(truth.read_text(encoding="utf-8").splitlines()[0])
    record = row["record"]
    # A form whose confirmations are ticked: the business system refuses the others (a business error).
    assert record["supervision_confirmed"] and record["livelihood_confirmed"]
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    try:
        setup_logging(logging.DEBUG)  # the platform's own set-up: the masking filter on every handler
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        with start_sandbox("a") as sandbox:
            sandbox.seed([record])
            intake = _configure(platform, monkeypatch, sandbox.url)
            (intake.folders["inbox"] / "現況届" / row["file"]).write_bytes((truth.parent / row["file"]).read_bytes())
            assert drain(platform.engine, timeout=180, kinds=["ocr", "scenario"], intakes=[intake], tenant_ids=["alpha"])
            with tenant_session("alpha", platform.engine) as s:
                doc = s.execute(select(Document)).scalars().one()
                if doc.status == DocumentStatus.needs_review:
                    clerk = create_user(s, tenant_id="alpha", username="clerk", role=Role.clerk, password="clerk-password-1")
                    values = {f.key: _paper_value(record, f.key) for f in review_fields(form_of(doc)) if f.doubtful}
                    assert approve(s, doc, values, user=clerk).ok
            assert drain(platform.engine, timeout=120, kinds=["scenario"], tenant_ids=["alpha"])
            stored = sandbox.stored()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    from tenants.models import Job
    with tenant_session("alpha", platform.engine) as s:
        errors = [(j.kind, j.status, j.error, j.result) for j in s.execute(select(Job)).scalars()]
    assert [r["recipient_number"] for r in stored] == [record["recipient_number"]], errors
    text = buffer.getvalue()
    assert "job" in text  # the run did log (DEBUG/INFO lines from the runner)
    assert record["my_number"] not in text
    assert not [m for m in TWELVE_DIGITS.findall(text) if valid_my_number(re.sub(r"\D", "", m))]

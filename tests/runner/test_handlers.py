"""The engine-backed job kinds against the real engines: Tesseract OCR, the Playwright
executor on real Chromium against the sandbox business system, and faster-whisper."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from automation.intake import Intake
from automation.jobs import enqueue, retry_job
from automation.runner.service import drain
from tenants.loader import get_tenant
from tenants.models import Document, DocumentStatus, Job, JobStatus, UsageEvent

from .conftest import Platform

SYSTEM = """
[systems.jidou_teate]
base_url = "{url}"
variant = "a"
username = "robot"
password_secret = "jidou_teate_password"

[scenarios.child_allowance_status_report]
system = "jidou_teate"

[[routes]]
folder = "現況届"
kind = "ocr"

[[routes]]
folder = "audio"
kind = "transcription"
"""


def _configure(platform: Platform, monkeypatch: pytest.MonkeyPatch, url: str = "http://127.0.0.1:9/") -> Intake:
    p = platform.tenants_dir / "alpha.toml"
    p.write_text(p.read_text(encoding="utf-8") + SYSTEM.format(url=url), encoding="utf-8")
    monkeypatch.setenv("KYODO_SECRET_JIDOU_TEATE_PASSWORD", "sandbox-pass")
    return Intake(get_tenant("alpha").config, engine=platform.engine, settle_seconds=0)


def _events(platform: Platform, job_id: int) -> list[UsageEvent]:
    with platform.session() as s:
        return list(s.exec(select(UsageEvent).where(UsageEvent.job_id == job_id)).scalars())


@pytest.mark.slow
def test_ocr_job_keeps_page_images_and_result_and_refuses_a_corrupt_scan(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    from ocr.generate import generate_set

    intake = _configure(platform, monkeypatch)
    truth = generate_set(platform.root / "gen", 1, seed=7, variants=("a",), degrade=False)
    scan = next(p for p in truth.parent.iterdir() if p.suffix != ".jsonl")
    (intake.folders["inbox"] / "現況届" / scan.name).write_bytes(scan.read_bytes())
    (intake.folders["inbox"] / "現況届" / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    results = {r.path.name: r for r in intake.scan()}
    assert drain(platform.engine, timeout=120, kinds=["ocr"])
    with platform.session() as s:
        doc = s.get(Document, results[scan.name].document_id)
        bad = s.get(Document, results["broken.pdf"].document_id)
        job = s.get(Job, results[scan.name].job_id)
        follow = list(s.exec(select(Job).where(Job.kind == "scenario")).scalars())
    # The good scan: read, page image kept for review, result stored, then ready or in review.
    assert doc.ocr_result is not None and doc.ocr_result["template"] and doc.pages == 1
    assert (intake.folders["work"] / f"doc-{doc.id}" / "page-1.png").is_file()
    if doc.status == DocumentStatus.ready:
        assert job.status == JobStatus.succeeded and [j.payload["document_id"] for j in follow] == [doc.id]
        assert follow[0].payload["records"][0]["recipient_number"]
    else:
        assert doc.status == DocumentStatus.needs_review and job.status == JobStatus.needs_review and not follow
        assert Path(doc.path).parent == intake.folders["processing"] / "現況届"  # waits for the clerk
    types = sorted(e.type for e in _events(platform, job.id))
    assert types[:1] == ["ocr.field"] and types.count("ocr.page") == 1
    # The corrupt one: error/ with the engine's Japanese reason and the English one.
    assert bad.status == DocumentStatus.error
    reason = Path(bad.path + ".reason.txt").read_text(encoding="utf-8")
    assert "理由:" in reason and "Reason:" in reason and Path(bad.path).parent == intake.folders["error"] / "現況届"


@pytest.mark.slow
@pytest.mark.browser
def test_scenario_job_enters_the_record_with_a_seat_and_a_rerun_does_not_enter_twice(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    from automation.sandbox import start_sandbox
    from ocr.generate import generate_set

    truth = generate_set(platform.root / "gen", 2, seed=11, variants=("a",), degrade=False)
    records = [json.loads(line)["record"] for line in truth.read_text(encoding="utf-8").splitlines()]
    with start_sandbox("a") as sandbox:
        sandbox.seed([records[0]])  # the second recipient is unknown to the business system
        intake = _configure(platform, monkeypatch, sandbox.url)
        (intake.folders["processing"] / "ok.pdf").write_bytes(b"kept scan 1")
        (intake.folders["processing"] / "unknown.pdf").write_bytes(b"kept scan 2")
        doc_ok, doc_bad = (r.document_id for r in intake.recover())
        with platform.session() as s:
            # These documents came from intake as OCR jobs; drop those and enter directly.
            for j in s.exec(select(Job)).scalars():
                j.status = JobStatus.cancelled
                s.add(j)
            ids = [enqueue(s, tenant_id="alpha", kind="scenario", document_id=d, idempotency_key=f"sc-{d}",
                           payload={"scenario": "child_allowance_status_report", "records": [r], "document_id": d}).id
                   for d, r in ((doc_ok, records[0]), (doc_bad, records[1]))]
            s.commit()
        assert drain(platform.engine, timeout=120, kinds=["scenario"])
        with platform.session() as s:
            ok_job, bad_job = (s.get(Job, i) for i in ids)
            ok_doc, bad_doc = s.get(Document, doc_ok), s.get(Document, doc_bad)
        assert ok_job.status == JobStatus.succeeded, ok_job.error
        assert ok_job.pool == "robots" and ok_job.result["counts"] == {"entered": 1}
        assert ok_doc.status == DocumentStatus.done and Path(ok_doc.path).parent == intake.folders["done"]
        assert [r["recipient_number"] for r in sandbox.stored()] == [records[0]["recipient_number"]]
        assert bad_job.status == JobStatus.failed_business and bad_job.attempts == 1
        assert bad_doc.status == DocumentStatus.error and "該当する受給者" in Path(bad_doc.path + ".reason.txt").read_text(encoding="utf-8")
        robot = [e for e in _events(platform, ok_job.id) if e.type == "rpa.robot_seconds"]
        assert len(robot) == 1 and robot[0].value > 0
        assert set(robot[0].data) == {"pool", "started_at", "ended_at", "scenario", "records"} and robot[0].data["pool"] == "robots"
        assert sorted(e.type for e in _events(platform, ok_job.id)) == ["rpa.record", "rpa.robot_seconds", "rpa.run"]

        # Run it again (as after a crash between entering and recording): the guard finds it.
        with platform.session() as s:
            retry_job(s, ok_job.id)
            s.commit()
        assert drain(platform.engine, timeout=60, kinds=["scenario"])
        with platform.session() as s:
            again = s.get(Job, ok_job.id)
        assert again.status == JobStatus.succeeded and again.result["counts"] == {"skipped_already_entered": 1}
        assert len(sandbox.stored()) == 1
        assert len([e for e in _events(platform, ok_job.id) if e.type == "rpa.robot_seconds"]) == 1  # counted once


@pytest.mark.slow
def test_transcription_job_writes_minutes_to_outbox_and_meters_audio_seconds(platform: Platform, monkeypatch: pytest.MonkeyPatch,
                                                                            shared_dir: Path) -> None:
    wav = shared_dir / "audio" / "ja_read_test.wav"
    intake = _configure(platform, monkeypatch)
    (intake.folders["inbox"] / "audio" / "定例会.wav").write_bytes(wav.read_bytes())
    [r] = intake.scan()
    assert drain(platform.engine, timeout=150, kinds=["transcription"])
    with platform.session() as s:
        job, doc = s.get(Job, r.job_id), s.get(Document, r.document_id)
    assert job.status == JobStatus.succeeded, job.error
    assert doc.status == DocumentStatus.done and Path(doc.path).parent == intake.folders["done"] / "audio"
    out = intake.folders["outbox"] / "audio" / f"定例会_{doc.id}"  # route subfolder + document number: no overwrites
    assert (out / "定例会.txt").read_text(encoding="utf-8").strip()
    [ev] = _events(platform, job.id)
    assert ev.type == "asr.audio_seconds" and 5 < ev.value < 60

"""Hot-folder intake: complete files only, once each, refusals with reasons, recovery."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from automation.intake import Intake, IntakeService, is_ignored, sanitise_name
from tenants.loader import get_tenant
from tenants.models import AuditEvent, Document, Job, UsageEvent

from .conftest import Platform, wait_for


def _intake(platform: Platform, tenant: str = "alpha", **kw) -> Intake:
    kw.setdefault("kind_override", "echo")
    kw.setdefault("settle_seconds", 0.3)
    return Intake(get_tenant(tenant).config, engine=platform.engine, **kw)


def _docs(platform: Platform) -> list[Document]:
    with platform.session() as s:
        return list(s.exec(select(Document).order_by(Document.id)).scalars())


def _reason(folder: Path, name: str) -> str:
    return (folder / f"{name}.reason.txt").read_text(encoding="utf-8")


def test_half_written_file_is_not_taken_early(platform: Platform) -> None:
    intake = _intake(platform, settle_seconds=0.6)
    f = intake.folders["inbox"] / "scan.pdf"
    chunks = [os.urandom(50_000) for _ in range(5)]
    with f.open("wb") as out:
        for chunk in chunks:  # a slow network copy: pauses shorter than the settle time
            out.write(chunk)
            out.flush()
            for _ in range(3):
                assert intake.scan() == [], "taken while still being written"
                time.sleep(0.12)
    assert f.exists()
    wait_for(lambda: any(r.status == "queued" for r in intake.scan()), 5, "the complete file to be taken")
    docs = _docs(platform)
    assert len(docs) == 1 and docs[0].size == 250_000
    assert Path(docs[0].path).read_bytes() == b"".join(chunks)
    assert Path(docs[0].path).parent == intake.folders["processing"]


def test_same_content_twice_is_one_job_and_a_reported_duplicate(platform: Platform) -> None:
    intake = _intake(platform, settle_seconds=0)
    inbox = intake.folders["inbox"]
    (inbox / "a.pdf").write_bytes(b"%PDF same content")
    assert [r.status for r in intake.scan()] == ["queued"]
    (inbox / "a (copy).pdf").write_bytes(b"%PDF same content")
    assert [r.status for r in intake.scan()] == ["duplicate"]
    with platform.session() as s:
        assert len(list(s.exec(select(Job)).scalars())) == 1
        assert len(list(s.exec(select(Document)).scalars())) == 1
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "intake.duplicate")).scalars().first() is not None
    reason = _reason(intake.folders["error"], "a (copy).pdf")
    assert "同じ内容のファイルは既に受け付け済み" in reason and "duplicate" in reason and "a.pdf" in reason


def test_temporary_names_are_ignored(platform: Platform) -> None:
    intake = _intake(platform, settle_seconds=0)
    inbox = intake.folders["inbox"]
    for name in ("copy.pdf.part", "~$report.docx", ".hidden.pdf", "download.crdownload"):
        (inbox / name).write_bytes(b"x")
    assert intake.scan() == []
    assert sorted(p.name for p in inbox.iterdir()) == sorted(
        ["copy.pdf.part", "~$report.docx", ".hidden.pdf", "download.crdownload"])
    assert all(is_ignored(n) for n in ("a.part", "~$a", ".a")) and not is_ignored("a.pdf")


def test_symlinks_and_fifos_are_refused_with_a_reason_and_intake_goes_on(platform: Platform, tmp_path: Path) -> None:
    intake = _intake(platform, settle_seconds=0)
    inbox, error = intake.folders["inbox"], intake.folders["error"]
    secret = tmp_path / "outside.txt"
    secret.write_text("not yours")
    (inbox / "link.pdf").symlink_to(secret)
    os.mkfifo(inbox / "pipe.pdf")
    (inbox / "good.pdf").write_bytes(b"%PDF good")
    results = {r.path.name: r.status for r in intake.scan()}
    assert results == {"link.pdf": "refused", "pipe.pdf": "refused", "good.pdf": "queued"}
    assert (error / "link.pdf").is_symlink() and secret.read_text() == "not yours"  # moved, never followed
    assert "シンボリックリンク" in _reason(error, "link.pdf") and "symlink" in _reason(error, "link.pdf")
    assert "名前付きパイプ" in _reason(error, "pipe.pdf")
    assert [d.filename for d in _docs(platform)] == ["good.pdf"]


def test_unsupported_type_goes_to_error_with_a_japanese_and_english_reason(platform: Platform) -> None:
    intake = _intake(platform, settle_seconds=0, kind_override=None)
    (intake.folders["inbox"] / "notes.exe").write_bytes(b"MZ")
    assert [r.status for r in intake.scan()] == ["unsupported"]
    reason = _reason(intake.folders["error"], "notes.exe")
    assert "処理できません" in reason and "unsupported file type" in reason


def test_results_of_same_named_scans_never_overwrite_each_other(platform: Platform) -> None:
    """Two 'scan.pdf' (different content): one at the inbox root, one later in a route folder, and a third
    with the first one's name after it finished: three result files, each under its route."""
    from automation.runner.service import drain

    extra = '[[routes]]\nfolder = "現況届"\nkind = "ocr"\n'  # the test's intake overrides the kind with echo
    (platform.tenants_dir / "alpha.toml").write_text((platform.tenants_dir / "alpha.toml").read_text() + extra, encoding="utf-8")
    intake = _intake(platform, settle_seconds=0)
    inbox = intake.folders["inbox"]
    for n, folder in enumerate((inbox, inbox / "現況届", inbox)):
        (folder / "scan.pdf").write_bytes(f"%PDF {n}".encode())
        assert [r.status for r in intake.scan()] == ["queued"]
        assert drain(platform.engine, timeout=30, kinds=["echo"])
    outbox = intake.folders["outbox"]
    ids = [d.id for d in _docs(platform)]
    assert sorted(p.relative_to(outbox).as_posix() for p in outbox.rglob("*.json")) == sorted(
        [f"scan_{ids[0]}.echo.json", f"現況届/scan_{ids[1]}.echo.json", f"scan_{ids[2]}.echo.json"])


def test_routes_pick_kind_and_template(platform: Platform) -> None:
    extra = '[[routes]]\nfolder = "現況届"\nkind = "ocr"\ntemplate = "genkyo_todoke_a"\n\n[[routes]]\nfolder = "audio"\nkind = "transcription"\n'
    (platform.tenants_dir / "alpha.toml").write_text((platform.tenants_dir / "alpha.toml").read_text() + extra, encoding="utf-8")
    intake = _intake(platform, settle_seconds=0, kind_override=None)
    (intake.folders["inbox"] / "現況届" / "s1.pdf").write_bytes(b"%PDF 1")
    (intake.folders["inbox"] / "audio" / "会議.wav").write_bytes(b"RIFF")
    (intake.folders["inbox"] / "loose.png").write_bytes(b"\x89PNG")
    intake.scan()
    with platform.session() as s:
        jobs = {j.payload["filename"]: j for j in s.exec(select(Job)).scalars()}
    assert jobs["s1.pdf"].kind == "ocr" and jobs["s1.pdf"].payload["template"] == "genkyo_todoke_a"
    assert jobs["会議.wav"].kind == "transcription" and jobs["会議.wav"].payload["route"] == "audio"
    assert jobs["loose.png"].kind == "ocr"
    assert (intake.folders["processing"] / "現況届" / "s1.pdf").is_file()


def test_names_are_sanitised() -> None:
    assert sanitise_name("a/b\\c:d*?.pdf") == "a_b_c_d__.pdf"
    assert sanitise_name("..\x00evil.pdf") == "_evil.pdf"
    assert sanitise_name("ｶﾞ現況届.pdf") == "ｶﾞ現況届.pdf"
    long = sanitise_name("長" * 200 + ".pdf")
    assert long.endswith(".pdf") and len(long.encode()) <= 180
    assert sanitise_name("...") == "file"


def test_orphans_left_in_processing_by_a_crash_are_adopted(platform: Platform) -> None:
    intake = _intake(platform, settle_seconds=0)
    (intake.folders["processing"] / "orphan.pdf").write_bytes(b"%PDF orphan")
    results = intake.recover()
    assert [r.status for r in results] == ["queued"]
    assert intake.recover() == []  # known now
    assert [d.filename for d in _docs(platform)] == ["orphan.pdf"]


@pytest.mark.parametrize("poll", [False, True], ids=["events", "polling"])
def test_watcher_takes_files_survives_a_bad_one_and_counts_storage_once(platform: Platform, poll: bool) -> None:
    if poll:
        p = platform.tenants_dir / "alpha.toml"
        p.write_text(p.read_text() + "\n[folders]\npoll = true\n", encoding="utf-8")
    intake = _intake(platform, settle_seconds=0.3)
    assert intake.tenant.folders.poll is poll
    (intake.folders["inbox"] / "backlog.pdf").write_bytes(b"%PDF waiting before start")
    svc = IntakeService([intake], scan_interval=0.1)
    stop = threading.Event()
    t = threading.Thread(target=svc.run, args=(stop,), daemon=True)
    t.start()
    try:
        os.mkfifo(intake.folders["inbox"] / "bad.pdf")
        for i in range(3):
            (intake.folders["inbox"] / f"later-{i}.pdf").write_bytes(f"%PDF {i}".encode())
        wait_for(lambda: len(_docs(platform)) == 4, 10, "4 documents")
    finally:
        stop.set()
        t.join(5)
    assert (intake.folders["error"] / "bad.pdf.reason.txt").is_file()
    with platform.session() as s:
        ev = list(s.exec(select(UsageEvent).where(UsageEvent.type == "storage.bytes")).scalars())
    assert len(ev) == 4 and len({e.event_id for e in ev}) == 4

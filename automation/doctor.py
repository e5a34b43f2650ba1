"""Installation checks for a municipality's IT person: each problem comes with its fix."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from tenants.settings import get_settings

CHROMIUM = "/usr/bin/chromium"


class Check(BaseModel):
    name: str
    ok: bool
    detail: str
    fix: str | None = None


def _run(cmd: list[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=True).stdout


def check_tesseract() -> Check:
    exe = shutil.which("tesseract")
    fix = "sudo apt-get install -y tesseract-ocr tesseract-ocr-jpn tesseract-ocr-script-jpan   (or: make setup)"
    if not exe:
        return Check(name="Tesseract", ok=False, detail="tesseract not found on PATH", fix=fix)
    try:
        version = _run([exe, "--version"]).splitlines()[0]
    except (subprocess.SubprocessError, OSError, IndexError) as e:
        return Check(name="Tesseract", ok=False, detail=f"tesseract does not run: {e}", fix=fix)
    from ocr import models

    # The same check `kyodo ocr extract` refuses on, probed by the engine the pipeline uses.
    missing = models.missing_models()
    if missing:
        # Reading still works without jpn_full or Japanese, but far more fields are flagged.
        return Check(name="Tesseract", ok=False, detail=f"{version}; " + "; ".join(m.problem() for m in missing),
                     fix="; ".join(dict.fromkeys(m.fix for m in missing)))
    return Check(name="Tesseract", ok=True, detail=f"{version}; " + ", ".join(m.name for m in models.READER_MODELS) + " data present")


def check_ocr_engine() -> Check:
    from ocr.engine import engine_status

    name, detail = engine_status()
    return Check(name="OCR engine", ok=name == "api", detail=detail,
                 fix="sudo apt-get install -y libtesseract5   (or: make setup)")


def check_chromium() -> Check:
    fix = "sudo apt-get install -y chromium   (or: make setup)"
    if not os.access(CHROMIUM, os.X_OK):
        return Check(name="Chromium", ok=False, detail=f"{CHROMIUM} not found", fix=fix)
    try:
        version = _run([CHROMIUM, "--headless", "--no-sandbox", "--version"]).strip()
    except (subprocess.SubprocessError, OSError) as e:
        return Check(name="Chromium", ok=False, detail=f"chromium does not start: {e}", fix=fix)
    return Check(name="Chromium", ok=True, detail=version)


def check_whisper() -> Check:
    from transcription.weights import ModelError, offline_base_dir, verify

    folder = offline_base_dir(get_settings().resolved_model_dir)
    try:
        verify(folder)
    except ModelError as e:
        return Check(name="Whisper weights", ok=False, detail=str(e), fix="kyodo asr models --install   (or: make setup)")
    size = (folder / "model.bin").stat().st_size / 1e6
    return Check(name="Whisper weights", ok=True, detail=f"{folder} ({size:.0f} MB, sha256 verified)")


def check_fonts() -> Check:
    fix = "sudo apt-get install -y fonts-ipaexfont fonts-noto-cjk   (or: make setup)"
    try:
        fonts = _run(["fc-list", ":lang=ja", "family"])
    except (subprocess.SubprocessError, OSError):
        return Check(name="Japanese fonts", ok=False, detail="fc-list not available", fix=fix)
    if not fonts.strip():
        return Check(name="Japanese fonts", ok=False, detail="no font with Japanese glyphs", fix=fix)
    return Check(name="Japanese fonts", ok=True, detail=f"{len(set(fonts.splitlines()))} families with Japanese glyphs")


def check_database() -> Check:
    from tenants import migrate
    from tenants.db import get_engine

    engine = get_engine()
    url = engine.url.render_as_string(hide_password=True)
    try:
        pending = migrate.pending(engine)
    except Exception as e:  # noqa: BLE001 - any driver error means "not reachable"
        return Check(name="Database", ok=False, detail=f"{url}: {type(e).__name__}: {e}".splitlines()[0],
                     fix="check KYODO_DATABASE_URL and that the server runs; then: kyodo db upgrade")
    if pending:
        return Check(name="Database", ok=False, detail=f"{url}: migrations pending ({', '.join(pending)})", fix="kyodo db upgrade")
    return Check(name="Database", ok=True, detail=f"{url}: schema up to date")


def check_queue() -> Check:
    settings = get_settings()
    if settings.queue_url:
        try:
            import redis

            redis.Redis.from_url(settings.queue_url, socket_connect_timeout=3).ping()
        except Exception as e:  # noqa: BLE001
            return Check(name="Queue", ok=False, detail=f"{settings.queue_url}: {e}",
                         fix="start Redis or unset KYODO_QUEUE_URL to use the embedded queue")
        return Check(name="Queue", ok=True, detail=f"Redis at {settings.queue_url} answers")
    return _writable("Queue", settings.data_root, "embedded SQLite queue under")


def _writable(name: str, folder: Path, what: str) -> Check:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as e:
        return Check(name=name, ok=False, detail=f"{folder} is not writable: {e.strerror}",
                     fix=f"sudo chown -R $(id -u) {folder}  (or set KYODO_DATA_ROOT)")
    return Check(name=name, ok=True, detail=f"{what} {folder}")


def check_folders() -> Check:
    from tenants.loader import load_all

    settings = get_settings()
    report = load_all()
    bad = []
    for tid, t in report.tenants.items():
        for name, folder in t.config.folder_paths(settings.data_root).items():
            c = _writable(name, folder, "")
            if not c.ok:
                bad.append(f"{tid}/{name}: {c.detail}")
    if report.problems:
        bad.append(f"{len(report.problems)} tenant file problem(s) (see: kyodo tenants validate)")
    if bad:
        return Check(name="Tenant folders", ok=False, detail="; ".join(bad), fix="kyodo tenants validate; fix folder permissions")
    return Check(name="Tenant folders", ok=True, detail=f"{len(report.tenants)} tenant(s), all folders writable")


def check_disk(min_free_gb: float = 2.0) -> Check:
    root = get_settings().data_root
    root.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(root).free / 1e9
    if free < min_free_gb:
        return Check(name="Free disk", ok=False, detail=f"{free:.1f} GB free under {root}", fix="free space or move KYODO_DATA_ROOT")
    return Check(name="Free disk", ok=True, detail=f"{free:.1f} GB free under {root}")


CHECKS: list[Callable[[], Check]] = [
    check_tesseract, check_ocr_engine, check_chromium, check_whisper, check_fonts, check_database, check_queue, check_folders, check_disk,
]


def run_checks() -> list[Check]:
    out = []
    for check in CHECKS:
        try:
            out.append(check())
        except Exception as e:  # noqa: BLE001 - a doctor must report, not crash
            out.append(Check(name=check.__name__.removeprefix("check_"), ok=False, detail=f"check crashed: {e}"))
    return out

"""Hot-folder intake: a clerk drops a file into the tenant's ``inbox/``; it becomes a
Document and a Job, and ends in ``done/`` (results in ``outbox/``) or ``error/`` with a
reason file in Japanese and English. Nothing is deleted on failure.

The usual complaints about consume folders, and what this module does about them:

* taken before fully written -> a file is taken only when its size and mtime have not
  changed for ``settle_seconds``; temporary names (``*.part``, ``~$*``, ``.*``) are ignored;
* processed twice -> the content's SHA-256 is unique per tenant (database constraint) and
  the job's idempotency key is derived from it; a second copy is reported as a duplicate;
* lost after a failure -> the file is moved atomically (``rename``) to ``processing/``
  before anything else; files orphaned there by a crash are adopted on the next start;
* no routing -> ``inbox/<subfolder>/`` is routed by the tenant's ``routes``.

Symlinks, FIFOs, sockets and devices are refused (moved to ``error/`` as they are, never
followed or opened). Names are sanitised. watchfiles reports changes (with a polling
mode for network shares, ``folders.poll``); a periodic rescan does the stability checks.
"""
from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import shutil
import stat
import threading
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from automation.jobs import enqueue
from tenants.audit import audit
from tenants.config import Route, TenantConfig
from tenants.db import get_engine
from tenants.models import Document, DocumentStatus, utcnow
from tenants.privacy import mask
from tenants.scope import tenant_session
from tenants.settings import get_settings
from tenants.usage import UsageIn, record_usage

log = logging.getLogger(__name__)

IGNORED_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".filepart", ".download")
AUDIO_SUFFIXES = {".wav", ".mp3", ".m4a", ".flac", ".ogg", ".opus", ".aac", ".wma", ".mp4", ".webm", ".mov"}
SCAN_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"}
REASON_SUFFIX = ".reason.txt"
_FORBIDDEN = set('<>:"/\\|?*')
MAX_NAME_BYTES = 180
BATCH = 50  # files registered per transaction when many arrive at once


def is_ignored(name: str) -> bool:
    """Temporary or hidden names that a copy in progress or an editor leaves behind."""
    return name.startswith((".", "~$")) or name.lower().endswith(IGNORED_SUFFIXES)


def sanitise_name(name: str) -> str:
    """A safe file name: NFC, no control or path characters, no leading dots, bounded length."""
    name = unicodedata.normalize("NFC", name)
    out = "".join("_" if (ch in _FORBIDDEN or unicodedata.category(ch).startswith("C")) else ch for ch in name)
    out = out.strip().strip(".").strip() or "file"
    stem, suffix = os.path.splitext(out)
    if len(suffix.encode()) > 16:
        stem, suffix = out, ""
    while len((stem + suffix).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem or "file") + suffix


def unique_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name (2)``, ``name (3)``… if taken."""
    candidate = folder / name
    stem, suffix = os.path.splitext(name)
    n = 2
    while candidate.exists() or candidate.is_symlink():
        candidate = folder / f"{stem} ({n}){suffix}"
        n += 1
    return candidate


def result_path(folders: dict[str, Path], doc: Document, suffix: str = "") -> Path:
    """Where a document's results go: ``outbox/<route>/<name>_<document number><suffix>``.

    The route subfolder and the document number keep two scans of the same name (another
    route, another day) from overwriting each other's results; a retried job rewrites its own.
    """
    folder = folders["outbox"] / doc.route if doc.route else folders["outbox"]
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{Path(doc.filename).stem}_{doc.id}{suffix}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def move_atomic(src: Path, dest: Path) -> Path:
    """Move *src* to *dest* atomically; across file systems copy to a hidden temp name
    in the destination folder, fsync, rename, then remove the source."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(src, dest)
        return dest
    except OSError as e:
        if e.errno != 18:  # EXDEV: different file systems
            raise
    tmp = dest.parent / f".kyodo-{os.getpid()}-{dest.name}.part"
    with src.open("rb") as fin, tmp.open("wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
        fout.flush()
        os.fsync(fout.fileno())
    os.rename(tmp, dest)
    src.unlink()
    return dest


def write_reason(target: Path, reason_ja: str, reason_en: str) -> Path:
    """``<name>.reason.txt`` beside a file in error/: Japanese first (for the clerk), then English."""
    path = target.with_name(target.name + REASON_SUFFIX)
    body = (
        f"ファイル: {target.name}\n"
        f"理由: {mask(reason_ja) or 'エラーが発生しました。'}\n"
        f"日時: {utcnow().isoformat(timespec='seconds')} (UTC)\n"
        f"\n"
        f"File: {target.name}\n"
        f"Reason: {mask(reason_en) or 'an error occurred.'}\n"
    )
    path.write_text(body, encoding="utf-8")
    return path


def _route_folder(doc_path: Path, folders: dict[str, Path]) -> Path:
    """The route subfolder below processing/ (or done/, error/) that *doc_path* lives in."""
    for base in ("processing", "done", "error", "inbox"):
        try:
            rel = doc_path.parent.relative_to(folders[base])
            return rel
        except ValueError:
            continue
    return Path()


def finish_document(
    session: Session,
    document: Document,
    *,
    outcome: Literal["done", "error"],
    reason_ja: str = "",
    reason_en: str = "",
    tenant: TenantConfig,
) -> Path:
    """Move the document's kept file to done/ or error/ (with a reason file) and update its row.

    Idempotent: called again after a crash (the file already moved but the row not yet
    committed) it finds the file in the destination and only updates the row.
    """
    folders = tenant.folder_paths(get_settings().data_root)
    current = Path(document.path)
    dest_folder = folders[outcome] / _route_folder(current, folders)
    if current.parent == dest_folder and current.exists():
        dest = current  # already there
    elif current.exists() or current.is_symlink():
        dest = move_atomic(current, unique_path(dest_folder, current.name))
        stale = current.with_name(current.name + REASON_SUFFIX)
        if stale.is_file():  # a retried file leaves error/: its old reason goes with it
            stale.unlink()
    else:
        dest = _already_moved(dest_folder, current.name, document.sha256)
        if dest is None:
            # The file vanished (someone removed it by hand): record that, do not fail.
            log.error("document %s: kept file %s is missing", document.id, current)
            dest = current
            reason_en = (reason_en + "; " if reason_en else "") + "the kept file was missing"
            reason_ja = (reason_ja + "／" if reason_ja else "") + "保管ファイルが見つかりません"
    if outcome == "error" and dest.exists():
        write_reason(dest, reason_ja, reason_en)
    document.path = str(dest)
    document.status = DocumentStatus.done if outcome == "done" else DocumentStatus.error
    if outcome == "error":
        document.error = mask(reason_en or reason_ja)
    document.updated_at = utcnow()
    session.add(document)
    audit(session, f"document.{outcome}", tenant_id=document.tenant_id, target=f"document/{document.id}",
          detail={"file": dest.name, "reason": reason_en} if reason_en else {"file": dest.name})
    return dest


def _already_moved(folder: Path, name: str, sha: str) -> Path | None:
    stem, suffix = os.path.splitext(name)
    for candidate in [folder / name, *sorted(folder.glob(f"{stem} (*){suffix}"))]:
        if candidate.is_file() and (not sha or sha256_file(candidate) == sha):
            return candidate
    return None


@dataclass
class IntakeResult:
    path: Path
    status: Literal["queued", "duplicate", "refused", "unsupported", "failed"]
    document_id: int | None = None
    job_id: int | None = None
    message: str = ""


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


@dataclass
class Intake:
    """Intake for one tenant's inbox. ``scan()`` takes every complete file once."""

    tenant: TenantConfig
    engine: Engine | None = None
    settle_seconds: float | None = None
    kind_override: str | None = None
    payload_extra: dict[str, Any] = field(default_factory=dict)
    clock: Any = time.monotonic
    _seen: dict[Path, _Seen] = field(default_factory=dict, init=False)
    _failed: dict[Path, tuple[int, int]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        from automation.runner.config import runner_settings

        if self.settle_seconds is None:
            self.settle_seconds = runner_settings().settle_seconds
        self.folders = self.tenant.folder_paths(get_settings().data_root)
        for p in self.folders.values():
            p.mkdir(parents=True, exist_ok=True)
        for r in self.tenant.routes:
            if r.folder:
                (self.folders["inbox"] / r.folder).mkdir(parents=True, exist_ok=True)

    # -- scanning ---------------------------------------------------------------

    def _walk(self, folder: Path) -> Iterable[tuple[Path, os.stat_result]]:
        try:
            entries = list(os.scandir(folder))
        except OSError as e:
            log.warning("cannot list %s: %s", folder, e)
            return
        for entry in entries:
            if is_ignored(entry.name):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # vanished meanwhile
            if stat.S_ISDIR(st.st_mode):
                yield from self._walk(Path(entry.path))
            else:
                yield Path(entry.path), st

    def scan(self) -> list[IntakeResult]:
        """One pass over the inbox: take what is complete, remember what is still changing."""
        now = self.clock()
        results: list[IntakeResult] = []
        ready: list[tuple[Path, tuple[int, int]]] = []
        present = set()
        for path, st in self._walk(self.folders["inbox"]):
            present.add(path)
            if not stat.S_ISREG(st.st_mode):
                results.append(self._refuse(path, st))
                continue
            sig = (st.st_size, st.st_mtime_ns)
            if self._failed.get(path) == sig:
                continue
            seen = self._seen.get(path)
            if seen is None or (seen.size, seen.mtime_ns) != sig:
                self._seen[path] = _Seen(st.st_size, st.st_mtime_ns, now)
                if self.settle_seconds:
                    continue
                seen = self._seen[path]
            # Also require the mtime itself to be settle_seconds old: a writer that paused
            # just before our first look is not mistaken for a finished copy.
            if now - seen.since < self.settle_seconds or time.time() - st.st_mtime < self.settle_seconds:  # type: ignore[operator]
                continue
            ready.append((path, sig))
            self._seen.pop(path, None)
        # Move each complete file out of the inbox first (atomic), then register them in
        # batches: one transaction (and one commit) per batch instead of per file.
        kept: list[_Kept] = []
        for path, sig in ready:
            try:
                item = self._move_in(path)
            except Exception as e:  # noqa: BLE001 - one bad file must not stop the watcher
                log.exception("intake of %s failed", path)
                self._failed[path] = sig
                results.append(IntakeResult(path, "failed", message=mask(str(e))))
                continue
            if isinstance(item, IntakeResult):
                results.append(item)
            else:
                kept.append(item)
        for i in range(0, len(kept), BATCH):
            results += self._register_batch(kept[i:i + BATCH])
        for gone in set(self._seen) - present:
            self._seen.pop(gone, None)
        for gone in set(self._failed) - present:
            self._failed.pop(gone, None)
        return results

    # -- taking one file -----------------------------------------------------------

    def _route(self, rel: Path) -> tuple[str, Route | None]:
        folder = rel.parts[0] if len(rel.parts) > 1 else ""
        for r in self.tenant.routes:
            if r.folder == folder:
                return folder, r
        return folder, None

    def _kind(self, path: Path, route: Route | None) -> str | None:
        if self.kind_override:
            return self.kind_override
        if route is not None:
            return route.kind
        suffix = path.suffix.lower()
        if suffix in AUDIO_SUFFIXES:
            return "transcription"
        if suffix in SCAN_SUFFIXES:
            return "ocr"
        return None

    def _refuse(self, path: Path, st: os.stat_result) -> IntakeResult:
        what = ("symlink", "シンボリックリンク") if stat.S_ISLNK(st.st_mode) else \
            ("FIFO", "名前付きパイプ") if stat.S_ISFIFO(st.st_mode) else \
            ("socket", "ソケット") if stat.S_ISSOCK(st.st_mode) else ("device file", "デバイスファイル")
        rel = path.relative_to(self.folders["inbox"])
        dest = unique_path(self.folders["error"] / rel.parent, sanitise_name(path.name))
        try:
            move_atomic(path, dest)  # rename moves the entry itself; nothing is followed or opened
        except OSError as e:
            log.error("cannot move refused %s out of the inbox: %s", path, e)
            return IntakeResult(path, "refused", message=str(e))
        write_reason(dest, f"{what[1]}は受け付けられません。通常のファイルとして置き直してください。",
                     f"a {what[0]} is not accepted; copy the file itself into the inbox")
        self._audit_simple("intake.refused", dest, {"type": what[0]})
        log.warning("refused %s (%s)", path, what[0])
        return IntakeResult(path, "refused", message=f"{what[0]} refused")

    def _audit_simple(self, action: str, dest: Path, detail: dict[str, Any]) -> None:
        with tenant_session(self.tenant.id, self.engine or get_engine()) as s:
            audit(s, action, tenant_id=self.tenant.id, target=dest.name, detail=detail)

    def take(self, path: Path) -> IntakeResult:
        """Move one complete file to processing/ and create its Document and Job (one transaction)."""
        item = self._move_in(path)
        if isinstance(item, IntakeResult):
            return item
        return self._register_batch([item])[0]

    def _move_in(self, path: Path) -> "_Kept | IntakeResult":
        rel = path.relative_to(self.folders["inbox"])
        route_folder, route = self._route(rel)
        sub = Path(route_folder) if route_folder else Path()
        dest = unique_path(self.folders["processing"] / sub, sanitise_name(path.name))
        try:
            move_atomic(path, dest)
        except FileNotFoundError:
            return IntakeResult(path, "failed", message="taken by another watcher")
        return _Kept(dest, path.name, route_folder, route)

    def register(self, kept: Path, *, original: str, route_folder: str, route: Route | None) -> IntakeResult:
        """Create the Document and Job for a file already kept in processing/."""
        return self._register_batch([_Kept(kept, original, route_folder, route)])[0]

    def _register_batch(self, items: list["_Kept"]) -> list[IntakeResult]:
        """Documents, jobs, usage and audit for *items* in ONE transaction; on any error,
        each file is registered alone so one bad file cannot hold back the others."""
        out: list[IntakeResult] = []
        todo: list[tuple[_Kept, str, str, int]] = []
        for it in items:
            kind = self._kind(it.kept, it.route)
            if kind is None:
                out.append(self._to_error(it.kept, "unsupported",
                                          f"このファイル形式（{it.kept.suffix or '拡張子なし'}）は処理できません。PDF・画像（スキャン）または音声ファイルを置いてください。",
                                          f"unsupported file type '{it.kept.suffix or '(none)'}'; drop a PDF/image scan or an audio file"))
                continue
            todo.append((it, kind, sha256_file(it.kept), it.kept.stat().st_size))
        if not todo:
            return out
        engine = self.engine or get_engine()
        created: list[IntakeResult] = []
        dups: list[tuple[_Kept, int | None, str]] = []
        try:
            with tenant_session(self.tenant.id, engine) as s:
                shas = [sha for _it, _k, sha, _n in todo]
                known = {d.sha256: (d.id, d.filename) for d in s.exec(  # type: ignore[call-overload]
                    select(Document).where(Document.tenant_id == self.tenant.id, Document.sha256.in_(shas))).scalars()}  # type: ignore[attr-defined]
                for it, kind, sha, size in todo:
                    if sha in known:
                        dups.append((it, *known[sha]))
                        continue
                    doc = Document(tenant_id=self.tenant.id, filename=it.original, path=str(it.kept), sha256=sha, size=size,
                                   media_type=mimetypes.guess_type(it.kept.name)[0] or "", route=it.route_folder,
                                   template=it.route.template if it.route else None, status=DocumentStatus.received)
                    s.add(doc)
                    s.flush()
                    known[sha] = (doc.id, it.original)
                    payload = {"route": it.route_folder, "filename": it.original, **self.payload_extra}
                    if it.route and it.route.template:
                        payload["template"] = it.route.template
                    if it.route and it.route.scenario:
                        payload["scenario"] = it.route.scenario
                    job = enqueue(s, tenant_id=self.tenant.id, kind=kind, payload=payload,
                                  idempotency_key=f"intake:{self.tenant.id}:{sha}", document_id=doc.id)
                    record_usage(s, UsageIn(event_id=f"doc-{doc.id}:storage.bytes", source="kyodo/intake", type="storage.bytes",
                                            subject=self.tenant.id, value=float(size), data={"file": it.original}))
                    audit(s, "intake.received", tenant_id=self.tenant.id, target=f"document/{doc.id}",
                          detail={"file": it.original, "route": it.route_folder, "kind": kind, "job": job.id, "bytes": size})
                    created.append(IntakeResult(it.kept, "queued", document_id=doc.id, job_id=job.id))
        except IntegrityError:
            if len(todo) == 1:  # a concurrent intake registered the same content first
                it = todo[0][0]
                return out + [self._duplicate(it, None, "")]
            return out + [r for it, _k, _sha, _n in todo for r in self._register_batch([it])]
        for r in created:
            log.info("took %s as document %s, job %s", r.path.name, r.document_id, r.job_id)
        return out + created + [self._duplicate(it, doc_id, fname) for it, doc_id, fname in dups]

    def _duplicate(self, it: "_Kept", doc_id: int | None, filename: str) -> IntakeResult:
        first = f"（受付番号 {doc_id}「{filename}」）" if doc_id else ""
        return self._to_error(it.kept, "duplicate",
                              f"同じ内容のファイルは既に受け付け済みです{first}。二重処理を防ぐため、このファイルは処理しません。",
                              "duplicate: a file with identical content (SHA-256) was already received"
                              + (f" as document {doc_id} '{filename}'" if doc_id else "") + "; it is not processed twice")

    def _to_error(self, kept: Path, status: Literal["duplicate", "unsupported"], reason_ja: str, reason_en: str) -> IntakeResult:
        rel = _route_folder(kept, self.folders)
        dest = move_atomic(kept, unique_path(self.folders["error"] / rel, kept.name))
        write_reason(dest, reason_ja, reason_en)
        self._audit_simple(f"intake.{status}", dest, {"file": dest.name})
        log.warning("%s: %s", kept.name, reason_en)
        return IntakeResult(kept, status, message=reason_en)

    def recover(self) -> list[IntakeResult]:
        """Adopt files a crash left in processing/ without a Document row."""
        known: set[str] = set()
        with Session(self.engine or get_engine()) as s:
            known = set(s.exec(select(Document.path).where(Document.tenant_id == self.tenant.id)).scalars())  # type: ignore[call-overload]
        results = []
        for path, st in self._walk(self.folders["processing"]):
            if str(path) in known or not stat.S_ISREG(st.st_mode):
                continue
            rel = path.relative_to(self.folders["processing"])
            route_folder = rel.parts[0] if len(rel.parts) > 1 else ""
            route = next((r for r in self.tenant.routes if r.folder == route_folder), None)
            log.warning("adopting %s left in processing/ by an interrupted intake", path)
            results.append(self.register(path, original=path.name, route_folder=route_folder, route=route))
        return results


@dataclass
class _Kept:
    kept: Path
    original: str
    route_folder: str
    route: Route | None


class IntakeService:
    """Watches several tenants' inboxes until *stop* is set (one thread per watch mode)."""

    def __init__(self, intakes: list[Intake], *, scan_interval: float | None = None):
        from automation.runner.config import runner_settings

        self.intakes = intakes
        self.scan_interval = scan_interval or runner_settings().scan_interval
        self.taken = 0

    def start_backlog(self) -> list[IntakeResult]:
        out = []
        for i in self.intakes:
            out += i.recover()
            out += i.scan()
        return out

    def _scan_all(self, intakes: list[Intake]) -> None:
        for i in intakes:
            try:
                self.taken += sum(1 for r in i.scan() if r.status == "queued")
            except Exception:  # noqa: BLE001 - keep watching
                log.exception("scan of %s failed", i.tenant.id)

    def _watch(self, intakes: list[Intake], poll: bool, stop: threading.Event) -> None:
        from watchfiles import watch

        paths = [i.folders["inbox"] for i in intakes]
        timeout_ms = max(50, int(self.scan_interval * 1000))
        try:
            for _changes in watch(*paths, stop_event=stop, yield_on_timeout=True, rust_timeout=timeout_ms,
                                  force_polling=poll, poll_delay_ms=timeout_ms, debounce=50, step=20,
                                  raise_interrupt=False, ignore_permission_denied=True):
                self._scan_all(intakes)
                if stop.is_set():
                    break
        except Exception:  # noqa: BLE001 - fall back to plain rescans rather than stop taking files
            log.exception("file watching failed; falling back to rescanning every %.1fs", self.scan_interval)
            while not stop.wait(self.scan_interval):
                self._scan_all(intakes)

    def run(self, stop: threading.Event) -> None:
        self.start_backlog()
        groups: dict[bool, list[Intake]] = {}
        for i in self.intakes:
            groups.setdefault(i.tenant.folders.poll, []).append(i)
        threads = [threading.Thread(target=self._watch, args=(g, poll, stop), name=f"intake-{'poll' if poll else 'events'}", daemon=True)
                   for poll, g in groups.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

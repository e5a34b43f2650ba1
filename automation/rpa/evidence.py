"""Failure evidence on disk: scrubbing personal data out of traces, and retention.

A Playwright trace records every call with its parameters (``fill`` values: the My Number
typed into the form, the password typed at login), the network log with the pages and
form posts, and with snapshots the DOM including input values. There is no Playwright
option to leave values out, so a saved trace is rewritten: every text member of the zip
goes through the run's ``clean`` function (the record's sensitive values and the secrets,
also in their URL-, JSON- and HTML-escaped forms, then ``tenants.privacy.mask``). A trace
that cannot be scrubbed is deleted, never kept as it is.

Retention: :func:`purge_evidence` deletes screenshots and traces older than a number of
days under a folder; :func:`purge_tenant_evidence` does it for one municipality's work
folder with its configured retention. The runner's periodic maintenance calls it.
"""
from __future__ import annotations

import html
import json
import logging
import os
import re
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, quote_plus

from pydantic import BaseModel, Field

from tenants.config import TenantConfig
from tenants.privacy import mask

log = logging.getLogger(__name__)

# What the executor writes: "<NNN>-<key>-<status>.png|.trace.zip" and "<NNN>-<name>.png" for
# screenshot steps. Nothing else in a job's work folder (page images, crops) is touched.
EVIDENCE_RE = re.compile(r"^\d{3}-[^/]*\.(?:png|trace\.zip)$")


def variants(value: str) -> set[str]:
    """*value* as it can appear inside a trace: raw, in a form post, in JSON, in HTML."""
    out = {value, quote_plus(value), quote(value, safe=""), json.dumps(value, ensure_ascii=False)[1:-1],
           json.dumps(value)[1:-1], html.escape(value, quote=True)}
    return {v for v in out if v}


def make_cleaner(values: Iterable[str], replacement: str = "***") -> Callable[[str], str]:
    """A function that removes every variant of *values* (longest first), then masks My Numbers.

    A value that starts or ends with a digit is only replaced where no other digit touches
    it, so a short misread number never eats into timestamps or other numbers of a trace."""
    forms = sorted({f for v in values if v and len(v) >= 4 for f in variants(str(v))}, key=len, reverse=True)
    if not forms:
        return mask
    pattern = re.compile("|".join(("(?<![0-9])" if f[0].isdigit() else "") + re.escape(f) + ("(?![0-9])" if f[-1].isdigit() else "")
                                  for f in forms))

    def clean(text: str) -> str:
        return mask(pattern.sub(replacement, text)) if text else text

    return clean


def scrub_trace(path: Path, clean: Callable[[str], str]) -> bool:
    """Rewrite the trace zip at *path* with every text member cleaned. Returns False (and
    deletes the file) when it cannot be read: an unscrubbed trace must not stay on disk."""
    tmp = path.with_name(path.name + ".part")
    try:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                data = src.read(info)
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:  # images and other binary resources hold no typed text
                    dst.writestr(info, data)
                    continue
                dst.writestr(info, clean(text).encode("utf-8"))
        os.replace(tmp, path)
        return True
    except (OSError, zipfile.BadZipFile) as e:
        log.warning("could not scrub trace %s, deleting it: %s", path.name, e)
        for p in (tmp, path):
            p.unlink(missing_ok=True)
        return False


class PurgeResult(BaseModel):
    folder: str
    retention_days: int
    deleted: int = 0
    bytes: int = 0
    kept: int = 0
    errors: list[str] = Field(default_factory=list)


def purge_evidence(folder: Path, retention_days: int, *, now: datetime | None = None) -> PurgeResult:
    """Delete failure screenshots and traces under *folder* older than *retention_days*
    (by modification time). Other files are never touched; emptied folders stay (the
    runner owns its job folders)."""
    if retention_days < 0:
        raise ValueError(f"retention_days must be >= 0, got {retention_days}")
    now_ts = (now or datetime.now(timezone.utc)).timestamp()
    cutoff = now_ts - retention_days * 86400
    res = PurgeResult(folder=str(folder), retention_days=retention_days)
    if not folder.is_dir():
        return res
    for p in folder.rglob("*"):
        if not (p.is_file() and EVIDENCE_RE.match(p.name)):
            continue
        try:
            st = p.stat()
            if st.st_mtime >= cutoff:
                res.kept += 1
                continue
            p.unlink()
            res.deleted += 1
            res.bytes += st.st_size
        except OSError as e:
            res.errors.append(f"{p.name}: {e.strerror or e}")
    if res.deleted:
        log.info("purged %d evidence files (%d bytes) older than %d days under %s", res.deleted, res.bytes,
                 retention_days, folder)
    return res


def purge_tenant_evidence(tenant: TenantConfig, data_root: Path, *, now: datetime | None = None) -> PurgeResult:
    """Apply one municipality's retention to its work folder (where scenario jobs keep evidence)."""
    folders = tenant.folder_paths(data_root)
    return purge_evidence(Path(folders["work"]), tenant.evidence_retention_days, now=now)


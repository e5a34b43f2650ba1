"""Files under a tenant's folders only: resolve a path and refuse traversal out of it."""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath


class PathTraversalError(PermissionError):
    """A path that would leave the tenant's folder (``..``, absolute, or a symlink out)."""


def safe_tenant_path(base: Path, *parts: str | os.PathLike[str]) -> Path:
    """``base / parts…`` resolved, guaranteed to stay inside *base*.

    Refuses absolute parts, drive letters, ``..`` components and NUL bytes outright (even
    when the result would land inside *base*: such a name is never legitimate), then
    resolves symlinks and refuses a result outside ``base.resolve()``. The file need not
    exist yet.
    """
    root = Path(base).resolve()
    for part in parts:
        s = os.fspath(part)
        if not s or "\x00" in s:
            raise PathTraversalError(f"empty or NUL-containing path part {s!r} under {root}")
        if PurePosixPath(s).is_absolute() or PureWindowsPath(s).is_absolute() or PureWindowsPath(s).drive:
            raise PathTraversalError(f"absolute path {s!r} refused: give a path inside {root}")
        if ".." in PurePosixPath(s.replace("\\", "/")).parts:
            raise PathTraversalError(f"'..' in {s!r} refused: paths must stay inside {root}")
    candidate = root.joinpath(*(os.fspath(p) for p in parts)).resolve()
    if candidate != root and root not in candidate.parents:
        raise PathTraversalError(f"{candidate} is outside {root} (a symbolic link leads out of the tenant folder)")
    return candidate

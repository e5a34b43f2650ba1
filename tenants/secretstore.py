"""Encrypted secret store under the data root (``kyodo secrets set --tenant X NAME``).

One Fernet-encrypted file (``<data_root>/secrets/store.enc``) holds every tenant's named
secrets. The key is ``KYODO_SECRET_KEY`` (a Fernet key) or a key file kept apart from the
store (``KYODO_SECRET_KEY_FILE``, default ``<data_root>/keys/secret.key``), created on first
use with mode 0600; a key file readable by others is refused, as ssh does. Writes are
atomic (temporary file + rename) and serialised with a lock file.
"""
from __future__ import annotations

import fcntl
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from .settings import get_settings

KEY_ENV = "KYODO_SECRET_KEY"


class SecretStoreError(RuntimeError):
    """The store or its key is unusable; the message says what to do."""


def store_path() -> Path:
    return get_settings().data_root / "secrets" / "store.enc"


def key_path() -> Path:
    s = get_settings()
    return s.secret_key_file or s.data_root / "keys" / "secret.key"


def _load_key(create: bool) -> bytes | None:
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode()
    path = key_path()
    if path.is_file():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SecretStoreError(f"key file {path} has permissions {mode:o}; it must be readable by its owner only "
                                   f"(run: chmod 600 {path})")
        return path.read_bytes().strip()
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


def _fernet(create: bool) -> Fernet | None:
    key = _load_key(create)
    if key is None:
        return None
    try:
        return Fernet(key)
    except (ValueError, TypeError):
        raise SecretStoreError(f"the secret key ({KEY_ENV} or {key_path()}) is not a valid Fernet key") from None


def _read(f: Fernet) -> dict[str, dict[str, str]]:
    path = store_path()
    if not path.is_file():
        return {}
    try:
        return json.loads(f.decrypt(path.read_bytes()))
    except InvalidToken:
        raise SecretStoreError(f"{path} cannot be decrypted with the configured key (was the key replaced?)") from None


@contextmanager
def _locked() -> Iterator[None]:
    path = store_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(f: Fernet, data: dict[str, dict[str, str]]) -> None:
    path = store_path()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(f.encrypt(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def set_secret(tenant_id: str, name: str, value: str) -> None:
    if not value:
        raise SecretStoreError("an empty secret is not stored; give the value")
    f = _fernet(create=True)
    assert f is not None
    with _locked():
        data = _read(f)
        data.setdefault(tenant_id, {})[name] = value
        _write(f, data)


def delete_secret(tenant_id: str, name: str) -> bool:
    f = _fernet(create=False)
    if f is None:
        return False
    with _locked():
        data = _read(f)
        found = data.get(tenant_id, {}).pop(name, None) is not None
        if found:
            _write(f, data)
    return found


def list_names(tenant_id: str | None = None) -> dict[str, list[str]]:
    """Secret names per tenant (never the values)."""
    f = _fernet(create=False)
    if f is None:
        return {}
    data = _read(f)
    return {t: sorted(v) for t, v in sorted(data.items()) if tenant_id in (None, t)}


def lookup(tenant_id: str, name: str) -> str | None:
    """The store's lookup for :func:`tenants.secrets.get_secret` (None when absent)."""
    if not store_path().is_file():
        return None
    f = _fernet(create=False)
    if f is None:
        raise SecretStoreError(f"{store_path()} exists but no key was found ({KEY_ENV} or {key_path()})")
    return _read(f).get(tenant_id, {}).get(name)

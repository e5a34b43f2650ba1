"""Secrets named by tenant files (business-system passwords, tokens).

A tenant file names a secret (``password_secret = "jidou_teate_password"``); the value
comes from the environment, tenant-specific first:
``KYODO_SECRET_<TENANT>_<NAME>`` then ``KYODO_SECRET_<NAME>`` (upper case, other
characters as ``_``). Values are never logged.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable


class SecretMissing(LookupError):
    pass


def env_name(name: str, tenant_id: str | None = None) -> str:
    parts = ["KYODO_SECRET"] + ([tenant_id] if tenant_id else []) + [name]
    return "_".join(re.sub(r"[^A-Za-z0-9]", "_", p).upper() for p in parts)


# Further stores (e.g. the encrypted file store) register a lookup here; first hit wins.
_stores: list[Callable[[str, str], str | None]] = []


def register_store(lookup: Callable[[str, str], str | None]) -> None:
    _stores.append(lookup)


def get_secret(tenant_id: str, name: str) -> str:
    for var in (env_name(name, tenant_id), env_name(name)):
        if var in os.environ:
            return os.environ[var]
    for lookup in _stores:
        value = lookup(tenant_id, name)
        if value is not None:
            return value
    raise SecretMissing(
        f"secret '{name}' for tenant '{tenant_id}' is not set: set {env_name(name, tenant_id)} "
        f"in the environment or run 'kyodo secrets set --tenant {tenant_id} {name}'"
    )


def _register_builtin_stores() -> None:
    # The encrypted file store under the data root (``kyodo secrets set``); env vars win.
    from .secretstore import lookup

    if lookup not in _stores:
        register_store(lookup)


_register_builtin_stores()

"""Tenant configurations for the runner, re-read when a tenant file changes."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from tenants.config import TenantConfig
from tenants.licensing import PoolConfig, PoolsFileError, load_pools, pools_path
from tenants.loader import TenantFileError, load_tenant_file
from tenants.settings import get_settings

_lock = threading.Lock()
_cache: dict[Path, tuple[float, TenantConfig]] = {}
_pools: dict[Path, tuple[float, dict[str, PoolConfig]]] = {}
# Run parameters: the last configuration layer, set by the process (e.g. the demo points a
# tenant's business system at the sandbox it just started).
_run_params: dict[str, dict[str, Any]] = {}


def set_run_params(tenant_id: str, params: dict[str, Any] | None) -> None:
    with _lock:
        if params:
            _run_params[tenant_id] = params
        else:
            _run_params.pop(tenant_id, None)
        _cache.pop(get_settings().tenants_dir / f"{tenant_id}.toml", None)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


def tenant_config(tenant_id: str) -> TenantConfig | None:
    """The tenant's validated configuration, or None if its file is absent or broken."""
    path = get_settings().tenants_dir / f"{tenant_id}.toml"
    m = _mtime(path)
    with _lock:
        hit = _cache.get(path)
        if hit and hit[0] == m:
            return hit[1]
    if m < 0:
        return None
    try:
        cfg = load_tenant_file(path, run_params=_run_params.get(tenant_id)).config
    except TenantFileError:
        return None
    with _lock:
        _cache[path] = (m, cfg)
    return cfg


def pools() -> dict[str, PoolConfig]:
    path = pools_path()
    m = _mtime(path)
    with _lock:
        hit = _pools.get(path)
        if hit and hit[0] == m:
            return hit[1]
    try:
        loaded = load_pools()
    except PoolsFileError:
        loaded = {}
    with _lock:
        _pools[path] = (m, loaded)
    return loaded


def seat_pool(tenant_id: str, kind: str, payload: dict) -> str | None:
    """The licence pool whose seat a job needs: scenario runs use the tenant's first pool."""
    if payload.get("pool"):
        return str(payload["pool"])
    if kind == "scenario" or payload.get("seat"):
        cfg = tenant_config(tenant_id)
        if cfg and cfg.pools:
            return cfg.pools[0]
    return None

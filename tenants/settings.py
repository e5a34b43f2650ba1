"""Platform-wide settings, read from the environment (``KYODO_*``).

These are the installation's settings (where data lives, which database and queue),
not a municipality's: those are in the tenant files.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KYODO_", extra="ignore")

    data_root: Path = Field(default=PROJECT_ROOT / "var", description="where databases, tenant folders and caches live")
    tenants_dir: Path = Field(default=PROJECT_ROOT / "tenants", description="folder of <tenant-id>.toml files")
    scenarios_dir: Path = Field(default=PROJECT_ROOT / "scenarios")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite under data_root")
    queue_url: str | None = Field(default=None, description="redis://… for RedisHuey; default: SqliteHuey under data_root")
    model_dir: Path | None = Field(default=None, description="folder for Whisper weights; default: data_root/models")
    secret_key_file: Path | None = None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_root / 'kyodo.db'}"

    @property
    def resolved_model_dir(self) -> Path:
        return self.model_dir or self.data_root / "models"


@lru_cache(maxsize=1)
def get_settings() -> PlatformSettings:
    return PlatformSettings()


def reset_settings_cache() -> None:
    """Tests change KYODO_* variables; this makes the next get_settings() see them."""
    get_settings.cache_clear()

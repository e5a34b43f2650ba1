"""Runner settings from the environment (``KYODO_RUNNER_*``): timings, not tenant policy."""
from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RunnerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KYODO_RUNNER_", extra="ignore")

    queue_name: str = Field(default="kyodo", description="Huey name prefix (one queue per job kind)")
    lease_seconds: float = Field(default=30.0, gt=0, description="a job/seat lease; renewed every third of it")
    retry_base_seconds: float = Field(default=10.0, ge=0, description="backoff after an application error: base * 2^(attempt-1)")
    redispatch_seconds: float = Field(default=60.0, gt=0, description="resend the wake-up of a job queued this long")
    reaper_interval: float = Field(default=2.0, gt=0)
    settle_seconds: float = Field(default=2.0, ge=0, description="a dropped file must keep size and mtime this long")
    scan_interval: float = Field(default=0.5, gt=0, description="intake rescan period (stability checks)")
    threads: int = Field(default=2, ge=1, le=64, description="worker threads per process")


@lru_cache(maxsize=1)
def runner_settings() -> RunnerSettings:
    return RunnerSettings()


def reset_runner_settings() -> None:
    runner_settings.cache_clear()

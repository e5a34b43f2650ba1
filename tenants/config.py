"""The municipality (tenant) configuration model.

A tenant file (``tenants/<id>.toml``) is validated against :class:`TenantConfig`.
Every model forbids unknown keys, so a typo is an error with its path rather than a
silently ignored setting.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

SLUG_RE = r"^[a-z0-9][a-z0-9_-]{1,62}$"
SECRET_NAME_RE = r"^[A-Za-z0-9_.-]{1,64}$"
# Keys that would hold a secret value; a tenant file must name a secret, never contain one.
_PLAINTEXT_SECRET_KEYS = re.compile(r"^(password|passwd|pwd|token|secret|api_key|apikey|client_secret)$", re.I)

SecretName = Annotated[str, Field(pattern=SECRET_NAME_RE, description="name of a secret in the environment or encrypted store")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_plaintext_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if isinstance(key, str) and _PLAINTEXT_SECRET_KEYS.match(key):
                    raise ValueError(
                        f"'{key}' looks like a plaintext secret; tenant files must name a secret "
                        f"instead (e.g. {key}_secret = \"jidou_teate_{key}\") and the value is set with "
                        f"'kyodo secrets set --tenant <id> <name>' or the environment"
                    )
        return data


FOLDER_NAMES = ("inbox", "processing", "outbox", "done", "error", "work")


class Folders(_Strict):
    """Hot folders. Unset folders default to ``<data_root>/tenants/<id>/<name>``."""

    inbox: Path | None = None
    processing: Path | None = None
    outbox: Path | None = None
    done: Path | None = None
    error: Path | None = None
    work: Path | None = Field(default=None, description="internal: page images, crops, screenshots, traces")
    poll: bool = Field(default=False, description="poll instead of OS events (network shares)")

    def resolved(self, data_root: Path, tenant_id: str) -> dict[str, Path]:
        base = data_root / "tenants" / tenant_id
        return {name: (getattr(self, name) or base / name) for name in FOLDER_NAMES}


class BusinessSystem(_Strict):
    base_url: HttpUrl
    variant: str | None = Field(default=None, description="vendor/markup variant, used by scenario overrides")
    username: str | None = None
    username_secret: SecretName | None = None
    password_secret: SecretName | None = None
    description: str | None = None


class ScenarioOverride(_Strict):
    """Per-municipality customisation of a shared scenario ("standardise, leave room")."""

    system: str | None = Field(default=None, description="which business system (key of [systems]) it runs against")
    version: str | None = None
    targets: dict[str, str] = Field(default_factory=dict, description="target name -> selector/URL/label override")
    field_map: dict[str, str] = Field(default_factory=dict, description="scenario field -> record field")
    skip_steps: list[str] = Field(default_factory=list)
    add_steps: list[dict[str, Any]] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)


class OcrSettings(_Strict):
    form_variants: list[str] = Field(default_factory=list, description="form templates this municipality prints")
    review_threshold: float | None = Field(default=None, ge=0, le=1)
    dpi: int = Field(default=300, ge=100, le=1200)


class TranscriptionSettings(_Strict):
    language: str = "ja"
    model: str | None = Field(default=None, description="offline base (default), a local folder, or a model name")
    glossary: list[str] = Field(default_factory=list, description="place and person names, local terms")
    replacements: dict[str, str] = Field(default_factory=dict, description="置換辞書: recognised -> written")
    remove_fillers: bool = True


class Quota(_Strict):
    monthly_limit: float = Field(gt=0)
    warn_ratio: float = Field(default=0.8, gt=0, le=1)


class Schedule(_Strict):
    name: Annotated[str, Field(pattern=SLUG_RE)]
    cron: str = Field(description="five-field cron in the tenant's timezone, e.g. '30 8 * * 1-5'")
    kind: Literal["scenario", "transcription", "ocr"] = "scenario"
    scenario: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    skip_holidays: bool = True
    skip_year_end: bool = Field(default=True, description="skip 12/29-1/3 (年末年始)")
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        parts = v.split()
        if len(parts) != 5:
            raise ValueError(f"expected five cron fields 'min hour day month weekday', got {len(parts)}")
        try:
            from croniter import croniter
        except ImportError:  # pragma: no cover - croniter is a dependency
            return v
        if not croniter.is_valid(v):
            raise ValueError(f"'{v}' is not a valid cron expression")
        return v


class Route(_Strict):
    """Routes a subfolder of the inbox to a job kind (e.g. inbox/現況届 -> OCR with a form)."""

    folder: str = Field(description="subfolder of inbox, '' for the inbox itself")
    kind: Literal["ocr", "transcription", "scenario"]
    template: str | None = None
    scenario: str | None = None


class TenantConfig(_Strict):
    id: Annotated[str, Field(pattern=SLUG_RE, description="ASCII slug, e.g. 'nagano-shi'")]
    display_name: str = Field(min_length=1, description="e.g. 長野市")
    population: int = Field(default=0, ge=0, description="resident population (for 人口割 cost allocation)")
    timezone: str = "Asia/Tokyo"
    enabled: bool = True
    folders: Folders = Field(default_factory=Folders)
    systems: dict[str, BusinessSystem] = Field(default_factory=dict)
    scenarios: dict[str, ScenarioOverride] = Field(default_factory=dict)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    transcription: TranscriptionSettings = Field(default_factory=TranscriptionSettings)
    quotas: dict[str, Quota] = Field(default_factory=dict, description="meter name -> monthly quota")
    pools: list[str] = Field(default_factory=list, description="licence pools this municipality is a member of")
    max_concurrent_jobs: int = Field(default=4, ge=1)
    evidence_retention_days: int = Field(default=30, ge=1, le=3650,
                                         description="days the RPA's failure screenshots and traces are kept")
    schedules: list[Schedule] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone '{v}' (use an IANA name such as 'Asia/Tokyo')") from None
        return v

    @model_validator(mode="after")
    def _references(self) -> "TenantConfig":
        for name, override in self.scenarios.items():
            if override.system and override.system not in self.systems:
                raise ValueError(
                    f"scenarios.{name}.system names '{override.system}', which is not under [systems] "
                    f"(known: {', '.join(sorted(self.systems)) or 'none'})"
                )
        return self

    def folder_paths(self, data_root: Path) -> dict[str, Path]:
        return self.folders.resolved(data_root, self.id)

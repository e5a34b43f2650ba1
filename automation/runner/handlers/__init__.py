"""Job handlers per kind. Engine-backed kinds import their engine lazily, so a worker
for other kinds runs even where an engine is not installed yet."""
from __future__ import annotations

import importlib
from collections.abc import Callable

from .base import ApplicationError, BusinessError, JobContext, JobError, Outcome

KINDS: dict[str, str] = {
    "echo": "automation.runner.handlers.echo",
    "ocr": "automation.runner.handlers.ocr",
    "scenario": "automation.runner.handlers.scenario",
    "transcription": "automation.runner.handlers.transcription",
}


def handler_for(kind: str) -> Callable[[JobContext], Outcome]:
    if kind not in KINDS:
        raise BusinessError(f"unknown job kind '{kind}' (known: {', '.join(sorted(KINDS))})", f"不明なジョブ種別です: {kind}")
    return importlib.import_module(KINDS[kind]).handle  # type: ignore[no-any-return]


__all__ = ["KINDS", "ApplicationError", "BusinessError", "JobContext", "JobError", "Outcome", "handler_for"]

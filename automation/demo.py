"""``kyodo demo``: the whole story on the embedded default, ending in a readable summary.

Steps live in ``automation/demo_steps/`` (one module per capability, run in order of
their ``ORDER``). Each returns a :class:`StepSummary`; a failing step is reported and
the remaining steps still run, so the summary always shows the whole picture.
"""
from __future__ import annotations

import importlib
import pkgutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine

from tenants.loader import LoadReport
from tenants.privacy import mask
from tenants.settings import PlatformSettings


class StepSummary(BaseModel):
    title: str
    ok: bool = True
    lines: list[str] = Field(default_factory=list)
    seconds: float = 0.0


@dataclass
class DemoContext:
    """What the steps share: settings, the database, tenants, and a scratch folder."""

    settings: PlatformSettings
    engine: Engine
    tenants: LoadReport
    workdir: Path
    shared: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = print


@dataclass
class DemoStep:
    order: int
    name: str
    run: Callable[[DemoContext], StepSummary]


def discover_steps() -> list[DemoStep]:
    from automation import demo_steps

    steps = []
    for info in pkgutil.iter_modules(demo_steps.__path__):
        module = importlib.import_module(f"automation.demo_steps.{info.name}")
        if hasattr(module, "run"):
            steps.append(DemoStep(order=getattr(module, "ORDER", 100), name=info.name, run=module.run))
    return sorted(steps, key=lambda s: (s.order, s.name))


def run_demo(ctx: DemoContext, only: list[str] | None = None) -> list[StepSummary]:
    summaries = []
    for step in discover_steps():
        if only and step.name not in only:
            continue
        ctx.log(f"== {step.name}")
        start = time.perf_counter()
        try:
            summary = step.run(ctx)
        except Exception as e:  # noqa: BLE001 - one broken step must not hide the others
            summary = StepSummary(title=step.name, ok=False, lines=[mask(f"{type(e).__name__}: {e}")])
            ctx.log(mask(traceback.format_exc()))
        summary.seconds = time.perf_counter() - start
        summaries.append(summary)
    return summaries

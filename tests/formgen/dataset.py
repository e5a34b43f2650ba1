"""Writing sets of filled forms with their ground truth."""
from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from ocr.generate import _save

from tests.formgen.family import Split, split_families, split_of
from tests.formgen.layouts import family_layout
from tests.formgen.paint import paint
from tests.formgen.records import family_record
from tests.formgen.scan import scan

PDF_RATE = 0.12
UPSIDE_DOWN_RATE = 0.12
FIXED_PDF_DATE = time.strptime("2025-06-01", "%Y-%m-%d")


def render_blank(family_id: int) -> Image.Image:
    """The family's empty form: no values, no ticks, no stamp (pre-printed text stays)."""
    return paint(family_layout(family_id), None, random.Random(0))


def render_form(family_id: int, rng: random.Random) -> tuple[Image.Image, dict[str, Any], list[str]]:
    """One filled, undamaged form of the family: image (RGB, 300 dpi), record, absent fields."""
    lay = family_layout(family_id)
    record, absent = family_record(lay, rng)
    return paint(lay, record, rng), record, absent


def generate(out_dir: Path, count: int, *, split: Split, seed: int, families: Sequence[int] | None = None,
             degrade: bool = True) -> Path:
    """Write ``count`` forms cycling over the split's families (or *families*) and ``truth.jsonl``.

    With *degrade*, pages are scanned (grey or colour by family), some upside down, and about
    one file in eight is a two-page PDF; every truth line names its 0-based page.
    """
    ids = list(families) if families is not None else split_families(split)
    if not ids:
        raise ValueError("no families to draw from")
    wrong = [f for f in ids if split_of(f) != split]
    if wrong:
        raise ValueError(f"families {wrong} are not in the {split} split")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"formgen/{split}/{seed}")
    lines: list[dict[str, Any]] = []
    i = 0
    while i < count:
        n_pages = 2 if degrade and count - i >= 2 and rng.random() < PDF_RATE else 1
        pages: list[Image.Image] = []
        dpis: list[int] = []
        metas: list[tuple[int, dict[str, Any], list[str]]] = []
        for p in range(n_pages):
            fid = ids[(i + p) % len(ids)]
            img, record, absent = render_form(fid, rng)
            dpi = 300
            if degrade:
                img, dpi = scan(img, rng, colour=family_layout(fid).arrangement["scan"] == "colour",
                                upside_down=rng.random() < UPSIDE_DOWN_RATE)
            pages.append(img)
            dpis.append(dpi)
            metas.append((fid, record, absent))
        name = f"form-{split}-{seed:03d}-{i:04d}"
        if n_pages > 1:
            path = out_dir / f"{name}.pdf"
            # PIL writes one resolution for all pages: resample a page scanned at another dpi, or
            # it would come out as a smaller sheet; and one mode, so a grey page joins as RGB.
            mode = "RGB" if any(pg.mode == "RGB" for pg in pages) else "L"
            pages = [(pg if d == dpis[0] else pg.resize((round(pg.width * dpis[0] / d), round(pg.height * dpis[0] / d)))).convert(mode)
                     for pg, d in zip(pages, dpis)]
            # Fixed dates: PIL would stamp the current time and break same-arguments-same-bytes.
            pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=float(dpis[0]),
                          creationDate=FIXED_PDF_DATE, modDate=FIXED_PDF_DATE)
        elif degrade:
            path = _save(pages[0], out_dir / name, dpis[0], rng)
        else:
            path = out_dir / f"{name}.png"
            pages[0].save(path, "PNG", dpi=(300, 300))
        for p, (fid, record, absent) in enumerate(metas):
            lay = family_layout(fid)
            lines.append({"file": path.name, "page": p, "family": fid, "split": lay.split, "arrangement": lay.arrangement,
                          "record": record, "absent": absent})
        i += n_pages
    truth = out_dir / "truth.jsonl"
    truth.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return truth

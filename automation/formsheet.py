"""The blank form with every field's value region drawn and named, for a template's author (A4 PNG)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr.propose import BlankBinding

# Debian's fonts-noto-cjk (set up by scripts/setup.sh): the labels are Japanese.
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FOUND, LABEL = (0, 110, 220), (0, 150, 60)


def draw_binding(page: np.ndarray, binding: BlankBinding, out: Path) -> None:
    """Each found field: its value region in blue with the field's name and label, its label's box
    in green. Fields not found are listed in red at the bottom of the sheet."""
    img = Image.fromarray(page).convert("RGB")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 30) if FONT.exists() else ImageFont.load_default()
    for f in binding.fields:
        if f.label_box is not None:
            b = f.label_box
            draw.rectangle([b.x, b.y, b.x + b.w, b.y + b.h], outline=LABEL, width=3)
        if f.region is not None:
            b = f.region
            draw.rectangle([b.x, b.y, b.x + b.w, b.y + b.h], outline=FOUND, width=5)
            draw.text((b.x + 8, b.y + b.h - 38), f"{f.name}（{f.label}）", font=font, fill=FOUND)
    missing = [f for f in binding.fields if not f.found]
    if missing:
        text = "見つからない項目: " + "、".join(f"{f.label}（{f.name}）" for f in missing)
        draw.rectangle([0, img.height - 60, img.width, img.height], fill=(255, 255, 255))
        draw.text((20, img.height - 52), text, font=font, fill=(200, 0, 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out, dpi=(300, 300))

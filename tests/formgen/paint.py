"""Paints a family's sheet in colour: the printed form, then (unless blank) the written values,
tick marks, circled options and the red 受付 stamp."""
from __future__ import annotations

import random
import re
from datetime import date, timedelta
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from ocr.generate import A4, _font
from ocr.values import to_wareki

from tests.formgen.family import Colour, FamilyLayout
from tests.formgen.geometry import Rect, Slot

_WAREKI = re.compile(r"(..)(元|\d+)年(\d+)月(\d+)日")


def _lookup(record: dict[str, Any], path: str) -> Any:
    """The record value at a dotted path, or None where the form has no such value (an unused child row)."""
    cur: Any = record
    for part in path.split("."):
        if isinstance(cur, list):
            i = int(part)
            if i >= len(cur):
                return None
            cur = cur[i]
        elif isinstance(cur, dict):
            if part not in cur:
                return None
            cur = cur[part]
        else:
            return None
    return cur


def _option_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Painter:
    def __init__(self, lay: FamilyLayout, img: Image.Image, rng: random.Random) -> None:
        self.lay = lay
        self.img = img
        self.draw = ImageDraw.Draw(img)
        self.rng = rng

    # ---------------------------------------------------------------- printed form

    def form(self) -> None:
        lay, sheet, d = self.lay, self.lay.sheet, self.draw
        # Shading first, so no fill covers a neighbour's line.
        for c in sheet.cells:
            if c.shaded and lay.shade is not None:
                d.rectangle([c.rect.x, c.rect.y, c.rect.right, c.rect.bottom], fill=lay.shade)
        for c in sheet.cells:
            d.rectangle([c.rect.x, c.rect.y, c.rect.right, c.rect.bottom], outline=lay.form_ink, width=lay.line_width)
        for h in sheet.hyphens:
            d.rectangle([h.x, h.y, h.right, h.bottom], fill=lay.form_ink)
        for lb in sheet.labels:
            # Notes and the form number are printed black even on coloured forms (as most are).
            ink = (0, 0, 0) if lb.role in ("note", "form_number") else lay.form_ink
            d.text(lb.pos, lb.text, font=_font(lay.print_font, lb.size), fill=ink)

    # ---------------------------------------------------------------- filling in

    def ink(self) -> Colour:
        r, g, b = self.lay.value_ink
        j = self.rng.randint(-12, 12)
        return (max(0, r + j), max(0, g + j), max(0, min(255, b + j)))

    def write(self, rect: Rect, text: str, size: int, align: str) -> None:
        if not text:
            return
        rng = self.rng
        size = size + rng.randint(-3, 3)
        font = _font(self.lay.fill_font, size)
        room = rect.w - (12 if align == "center" else 30)
        while self.draw.textlength(text, font=font) > room and size > 20:
            size -= 2
            font = _font(self.lay.fill_font, size)
        tw = int(self.draw.textlength(text, font=font))
        if align == "center":
            x = rect.x + (rect.w - tw) // 2 + rng.randint(-4, 4)
        else:
            x = rect.x + rng.randint(10, max(11, min(40, rect.w - tw - 10)))
        ink_box = font.getbbox("国8")
        y = rect.y + (rect.h - (ink_box[3] - ink_box[1])) // 2 - ink_box[1] + rng.randint(-5, 5)
        colour = self.ink()
        cx = float(x)
        # Per-character baseline jitter: a hand is never on a perfect line.
        for ch in text:
            self.draw.text((cx, y + rng.randint(-2, 2)), ch, font=font, fill=colour)
            cx += self.draw.textlength(ch, font=font) + rng.choice([0, 0, 1, 2])

    def mark(self, r: Rect) -> None:
        """A tick, cross or filled square, a little off the box centre."""
        d, j = self.draw, self.rng.randint
        ox, oy = j(-5, 5), j(-5, 5)
        x, y, s = r.x + ox, r.y + oy, r.w
        colour = self.ink()
        if self.lay.mark == "tick":
            d.line([(x + 5 + j(-3, 3), y + s // 2), (x + s // 2, y + s - 5), (x + s + 8, y - 10 + j(-4, 4))], fill=colour, width=7, joint="curve")
        elif self.lay.mark == "cross":
            d.line([(x + 5, y + 5), (x + s - 5, y + s - 5)], fill=colour, width=6)
            d.line([(x + s - 5, y + 5), (x + 5, y + s - 5)], fill=colour, width=6)
        else:
            d.rectangle([x + 7, y + 7, x + s - 7, y + s - 7], fill=colour)

    def circle(self, r: Rect) -> None:
        j = self.rng.randint
        px, py = j(14, 24), j(10, 18)
        self.draw.ellipse([r.x - px + j(-4, 4), r.y - py + j(-4, 4), r.right + px + j(-4, 4), r.bottom + py + j(-4, 4)],
                          outline=self.ink(), width=j(3, 5))

    def slot(self, s: Slot, value: Any) -> None:
        if value is None:
            return
        if s.kind == "text":
            text = to_wareki(date.fromisoformat(value)) if s.field.endswith("_date") else str(value)
            self.write(s.rect, text, s.size, s.align)
        elif s.kind == "char":
            digits = re.sub(r"\D", "", str(value))
            if s.index < len(digits):
                self.write(s.rect, digits[s.index], s.size, "center")
        elif s.kind in ("era", "year", "month", "day"):
            m = _WAREKI.fullmatch(to_wareki(date.fromisoformat(value)))
            assert m is not None
            era, year, month, day = m.groups()
            if s.kind == "era":
                if era == s.option:
                    self.circle(s.rect)
            else:
                self.write(s.rect, {"year": year, "month": month, "day": day}[s.kind], s.size, "center")
        elif s.kind == "check":
            if _option_of(value) == s.option:
                self.mark(s.rect)
        elif s.kind == "circle":
            if _option_of(value) == s.option:
                self.circle(s.rect)

    def stamp(self, r: Rect, submitted: str) -> None:
        """A red 受付 stamp, a few days after the submission, with some ink missing."""
        rng = self.rng
        day = date.fromisoformat(submitted) + timedelta(days=rng.randint(0, 6))
        m = _WAREKI.fullmatch(to_wareki(day))
        assert m is not None
        text_date = f"{'R' if rng.random() < 0.5 else ''}{m.group(2)}.{day.month}.{day.day}"
        mask = Image.new("L", (r.w, r.h), 0)
        d = ImageDraw.Draw(mask)
        if self.lay.stamp_shape == "circle":
            d.ellipse([2, 2, r.w - 3, r.h - 3], outline=255, width=5)
            d.line([(r.w * 0.12, r.h * 0.36), (r.w * 0.88, r.h * 0.36)], fill=255, width=3)
            d.line([(r.w * 0.12, r.h * 0.64), (r.w * 0.88, r.h * 0.64)], fill=255, width=3)
        else:
            d.rectangle([2, 2, r.w - 3, r.h - 3], outline=255, width=5)
        font = _font(self.lay.print_font, int(r.h * 0.2))
        small = _font(self.lay.print_font, int(r.h * 0.15))
        city = self.lay.city.replace("上高井郡", "")
        for text, f, cy in (("受付", font, 0.2), (text_date, font, 0.5), (city, small, 0.8)):
            tw = d.textlength(text, font=f)
            bb = f.getbbox(text)
            d.text(((r.w - tw) / 2, r.h * cy - (bb[1] + bb[3]) / 2), text, font=f, fill=255)
        noise = np.random.default_rng(rng.randint(0, 2**31)).random((r.h, r.w))
        alpha = (np.asarray(mask, dtype=np.float32) * np.where(noise < 0.18, 0.3, rng.uniform(0.7, 0.9))).astype(np.uint8)
        red = Image.new("RGB", (r.w, r.h), (rng.randint(195, 225), rng.randint(25, 55), rng.randint(35, 65)))
        angle = rng.uniform(-12, 12)
        self.img.paste(red.rotate(angle), (r.x, r.y), Image.fromarray(alpha).rotate(angle))


def paint(lay: FamilyLayout, record: dict[str, Any] | None, rng: random.Random) -> Image.Image:
    """The form at 300 dpi in RGB; ``record=None`` gives the blank form."""
    img = Image.new("RGB", A4, (255, 255, 255))
    p = Painter(lay, img, rng)
    p.form()
    if record is None:
        return img
    for s in lay.sheet.slots:
        p.slot(s, _lookup(record, s.field))
    if lay.sheet.stamp is not None and "submission_date" in record and rng.random() < 0.85:
        p.stamp(lay.sheet.stamp, record["submission_date"])
    return img

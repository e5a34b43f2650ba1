"""The era of a Japanese date on a form that prints it: 「令和　年　月　日」 (one era printed) or
「昭和・平成・令和　年　月　日」 with the chosen era circled. Which era, and where the printed eras and
rings are, so the reader reads the written numbers alone."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ocr.fields import EraChoice
from ocr.grid import Cell
from ocr.layout import PageLayout
from ocr.locate import MATCH, Target, best_score
from ocr.marks import ring_inside, rings
from ocr.pagetext import Segment
from ocr.values import ERA_HINTS, ERAS, guess_wa_era


def era_choice(layout: PageLayout, t: Target, segs: list[Segment], read: Callable[[Cell], str]) -> EraChoice | None:
    """A date printed with several eras (「昭和・平成・令和　年　月　日」), one circled: which. With no
    ring and one era printed, that era for a reading that misreads it; None when no era is printed.

    The ring's strokes garble the era inside it in the layout pass (令和 read 信和), so the inside
    of each ring is read again at full resolution (*read*); an era found there is the choice. A ring
    round no era, or eras printed with no ring, gives EraChoice(None): the reader flags the date."""
    printed = {era for seg in segs if t.box.contains(seg.box.cx, seg.box.cy) for era in ERAS if era in seg.text}
    found = rings(layout, t.box)
    if not found:
        if len(printed) == 1:
            # 「令和　年　月　日」: the printed era, read whole by the layout pass, is the value's; it
            # stands in for a full-resolution reading that misread it (信和), never for a read era.
            return EraChoice(era=printed.pop(), only_misread=True)
        return EraChoice(era=None) if len(printed) >= 2 else None
    eras = {era for r in found if (era := _ringed_era(read(ring_inside(r)), r, t, segs)) is not None}
    if len(eras) != 1:
        return EraChoice(era=None)
    era, guessed = eras.pop()
    return EraChoice(era=era, guessed=guessed, printed=_era_print(layout, found, t, segs))


_ERA_CHARS = set(ERA_HINTS) | set("和・･")  # what printed eras (and the dot between them) read as
_ERA_ORDER = list(ERAS)  # eras are printed in this order


def _era_print(layout: PageLayout, found: list[Cell], t: Target, segs: list[Segment]) -> list[Cell]:
    """Where the rings and the printed eras are: whitened before the date is read, its numbers alone
    then carry the reading's confidence (the ring's strokes read as low-confidence noise: 平成(Yめ信和).

    Eras printed on their own line above the numbers (a narrow table cell): the rings' band across
    the cell. Eras before the numbers on one line: the band up to the line's last era character."""
    y0, y1 = min(r.y for r in found) - 4, max(r.y + r.h for r in found) + 4
    out = [Cell(r.x - 8, r.y - 8, r.w + 16, r.h + 16) for r in found]
    below = layout.bw[y1 + 4: t.box.y + t.box.h - 8, t.box.x + 8: t.box.x + t.box.w - 8]
    below_lines = layout.lines[y1 + 4: t.box.y + t.box.h - 8, t.box.x + 8: t.box.x + t.box.w - 8]
    if below.size and np.count_nonzero((below > 0) & (below_lines == 0)) > 0.01 * below.size:
        return out + [Cell(t.box.x, y0, t.box.w, y1 - y0)]
    for seg in segs:
        b = seg.box
        if not t.box.contains(b.cx, b.cy) or not (y0 < b.y + b.h and b.y < y1):
            continue
        ends = [x1 for ch, x0, x1 in seg.chars if ch in _ERA_CHARS or any(r.x <= (x0 + x1) / 2 <= r.x + r.w for r in found)]
        if not ends:
            continue
        digits = [(x0 + x1) / 2 for ch, x0, x1 in seg.chars if (ch.isdigit() or ch == "元") and x0 >= max(ends) - 2]
        end = _gap_before(layout, y0, y1, max(ends) - 10, min(digits)) if digits else max(ends) + 4
        out.append(Cell(b.x - 4, y0, end - b.x + 4, y1 - y0))
    return out


def _gap_before(layout: PageLayout, y0: int, y1: int, a: float, b: float) -> int:
    """The middle of the widest run of blank columns between x *a* and *b* on the band y0..y1: where
    the printed eras end and the written numbers begin. The layout pass spreads a word's characters
    evenly over its box, so neither end is exact (cutting at the last era character took a 5)."""
    lo, hi = int(a), int(b)
    if hi - lo < 3:
        return lo
    band = (layout.bw[max(0, y0): y1, lo: hi] > 0) & (layout.lines[max(0, y0): y1, lo: hi] == 0)
    blank = band.sum(axis=0) == 0
    best, run, at = 0, 0, lo
    for i, empty in enumerate(blank):
        run = run + 1 if empty else 0
        if run > best:
            best, at = run, lo + i - run // 2
    return at if best else lo


def _ringed_era(text: str, ring: Cell, t: Target, segs: list[Segment]) -> tuple[str, bool] | None:
    """The era a ring's inside reads as, and whether it is a guess. The ring's stroke often costs
    one character (昭和 read 招和) or all (質邊): then the printed eras outside the ring tell (an era
    printed elsewhere on the line is not the circled one; the eras are printed in their order), and
    last the misread character's shape (信和 -> 令和)."""
    scores = {era: best_score(text, [era]) for era in ERAS}
    best = max(scores.values())
    if best >= MATCH:
        return max(scores, key=lambda e: scores[e]), False
    outside = [(ch, (x0 + x1) / 2) for seg in segs if t.box.contains(seg.box.cx, seg.box.cy)
               for ch, x0, x1 in seg.chars if not ring.x <= (x0 + x1) / 2 <= ring.x + ring.w]
    printed = [(_ERA_ORDER.index(ERA_HINTS[ch]), x) for ch, x in outside if ch in ERA_HINTS]
    placed = _era_by_place(printed, ring.cx)
    if best < 0.4:
        return placed
    tied = [era for era, sc in scores.items() if sc >= best - 0.05]
    left = [era for era in tied if all(ch != era[0] for ch, _ in outside)
            and all((_ERA_ORDER.index(era) > i) == (ring.cx > x) for i, x in printed if _ERA_ORDER[i] != era)]
    if len(left) == 1:
        return left[0], False
    if placed is not None and placed[0] in left:
        return placed
    guess = guess_wa_era(text)
    return (guess, True) if guess in left else None


def _era_by_place(printed: list[tuple[int, float]], cx: float) -> tuple[str, bool] | None:
    """The era a ring at *cx* encloses, from the printed eras (order index, x) read outside it:
    the one era between its neighbours, or (a guess) the next one past the last printed."""
    before = [i for i, x in printed if x < cx]
    after = [i for i, x in printed if x > cx]
    lo = max(before) + 1 if before else None
    hi = min(after) - 1 if after else None
    if lo is not None and hi is not None:
        return (_ERA_ORDER[lo], False) if lo == hi else None
    i = lo if lo is not None else hi
    return (_ERA_ORDER[i], True) if i is not None and 0 <= i < len(_ERA_ORDER) else None


__all__ = ["era_choice"]

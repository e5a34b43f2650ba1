"""read_document: file -> pages -> normalised page -> classification -> fields -> FormResults.

The pipeline talks to Tesseract only through an :class:`~ocr.engine.OcrEngine`.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ocr.engine import OcrEngine, default_engine
from ocr.eras import era_choice
from ocr.fields import FieldInput, checkbox_field, choice_field, cross_checks, reading_kind, text_field, two_part
from ocr.grid import Cell
from ocr.layout import PageLayout, components, grid_of, join_words
from ocr.loading import load_pages
from ocr.marks import ring_inside, without_ring
from ocr.pagetext import segments
from ocr.smallprint import layout_pass
from ocr.bind import bind, recover_column_rows
from ocr.candidates import options_of
from ocr.locate import MATCH, Located, Target, best_score, recover_unread_labels
from ocr.memory import LayoutMemory, Recall, learn_page
from ocr.normalize import normalise_page_turns, rotate90
from ocr.reading import (DIGIT_WHITELIST, FULL_LANG, LINE_SCALE, SECOND_LANG, Reading, blank_runs, hconcat, ink_on_white,
                         lang_available, one_line, otsu, read_each, read_line, read_trimmed, split_at, trim)
from ocr.results import Box, Doubt, FieldResult, FieldState, FieldType, FormResult
from ocr.templates import FormTemplate
from ocr.values import kana_orthography
from ocr import register

INSET = 7  # pixels trimmed inside a cell so its ruled border never reaches the reader


class DocumentRead(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    source: str
    page_count: int
    forms: list[FormResult] = Field(default_factory=list)
    pages: list[np.ndarray] = Field(default_factory=list, repr=False, description="normalised page images; boxes are in their pixels")
    rotations: list[int] = Field(default_factory=list, description="quarter turns applied to each page to make it upright")


@dataclass
class Classified:
    template: FormTemplate | None
    score: float
    layout: PageLayout
    located: Located | None
    quarter_turns: int


def _classify_layout(layout: PageLayout, templates: list[FormTemplate]) -> tuple[FormTemplate | None, float, Located | None, PageLayout]:
    """The fitting template with the highest priority, then score; (None, best score) when none fits."""
    best: tuple[FormTemplate | None, float, Located | None, PageLayout] = (None, 0.0, None, layout)
    top_score = 0.0
    for tpl in sorted(templates, key=lambda t: -t.priority):
        if best[0] is not None and best[0].priority > tpl.priority:
            break  # a higher-priority template already fits; registration would be wasted time
        if tpl.kind == "label":
            loc = bind(tpl, layout)
            score, lay = loc.score, layout
        else:
            reg = register.register_to(tpl, layout.image)
            if reg is None:
                continue
            score = reg.score
            lay = register.layout_for(reg.image, layout, reg.matrix)
            loc = register.locate_zones(tpl, lay)
        top_score = max(top_score, score)
        if score < tpl.min_score:
            continue
        cur = best[0]
        if cur is None or (tpl.priority, score) > (cur.priority, best[1]):
            best = (tpl, score, loc, lay)
    if best[0] is None:
        return (None, top_score, None, layout)
    return best


# Mean word confidence of the layout pass: upright pages of our forms read at 80-90, upside-down
# ones at 20-30 (Tesseract finds "words" in the mirrored strokes, all doubtful).
GARBLED_CONF = 50


def classify_page(image: np.ndarray, templates: list[FormTemplate], engine: OcrEngine,
                  memory: LayoutMemory | None = None) -> Classified:
    """Decide the form and the orientation. 180° is only tried when upright fits badly.

    When the upright layout pass reads only garbage, 180° is tried before matching templates
    upright: feature registration of a zone template would otherwise be attempted on the
    upside-down page first (0.2-0.4 s) and, when it succeeds by rotating, the page would be read
    through zones instead of its labels.

    With a *memory*, a page whose grid is a layout read before (upright, or upside down: then
    180° is read first) skips that layout's written values in the layout pass; the result is
    kept only when the pass still finds all the learnt page found (see :mod:`ocr.memory`), else
    the page is read in full."""
    tried: list[Classified] = []
    deferred: PageLayout | None = None
    upright = grid_of(image)
    upright_recall = _recall(memory, upright.cells, templates)
    # A known layout's grid upside down: read at 180° first, without a wasted upright pass.
    turned = upright_recall is None and _recall(memory, _turned_cells(upright.cells, image.shape), templates) is not None
    for turns in (2, 0) if turned else (0, 2):
        img = rotate90(image, turns)
        grid = upright if turns == 0 else grid_of(img)
        # Each orientation its own recall: the 180° grid's cells must never whiten the upright page.
        recall = upright_recall if turns == 0 else _recall(memory, grid.cells, templates)
        if recall is not None:
            tpl, score, loc, lay = _classify_layout(layout_pass(img, engine, grid, recall.skip, recall.blank), templates)
            if memory.confirms(recall, tpl.id if tpl else None, loc):
                memory.record(recall, kept=True)
                return Classified(tpl, score, lay, loc, turns)
        layout = layout_pass(img, engine, grid)
        if turns == 0 and layout.mean_conf < GARBLED_CONF and len(layout.words) > 20:
            deferred = layout
            if recall is not None:
                memory.record(recall, kept=False)
            continue
        tpl, score, loc, lay = _classify_layout(layout, templates)
        tried.append(Classified(tpl, score, lay, loc, turns))
        if recall is not None:
            memory.record(recall, kept=False, skip_at_fault=memory.confirms(recall, tpl.id if tpl else None, loc))
        if tpl is not None and score >= max(tpl.min_score, 0.75):
            break
        if tpl is None and layout.mean_conf >= 80 and len(layout.words) > 20:
            break  # clearly upright text, just not a form we know
    if deferred is not None and not any(c.template is not None for c in tried):
        tpl, score, loc, lay = _classify_layout(deferred, templates)
        tried.append(Classified(tpl, score, lay, loc, 0))
    best = max(tried, key=lambda c: (c.template is not None, c.score))
    if memory is not None and best.template is not None and best.located is not None:
        learn_page(memory, best.template, best.located, best.layout)
    return best


def _recall(memory: LayoutMemory | None, cells: list[Cell], templates: list[FormTemplate]) -> Recall | None:
    recall = memory.recall(cells) if memory is not None else None
    return recall if recall is not None and any(t.id == recall.template_id for t in templates) else None


def _turned_cells(cells: list[Cell], shape: tuple[int, ...]) -> list[Cell]:
    """The cells as they lie on the page turned 180°."""
    h, w = shape[:2]
    return [Cell(w - c.x - c.w, h - c.y - c.h, c.w, c.h) for c in cells]


# One per process, for callers that opt in (see read_document).
LAYOUT_MEMORY = LayoutMemory()


def read_document(path: Path, templates: list[FormTemplate], *, dpi: int = 300, engine: OcrEngine | None = None,
                  memory: LayoutMemory | None = None) -> DocumentRead:
    """Read every page of ``path``; one FormResult per page (template None when no template fits).

    *memory*: the layouts read before, to shorten the layout pass (None, the default: every page in
    full). Off by default since binding became layout-agnostic: the binder weighs what the layout
    pass read inside each candidate region, so a pass with the values whitened can bind a field
    differently (seen on a generated tuning family: a question absent in the full read came back
    unread), while the memory's check confirms labels only."""
    engine = engine or default_engine()
    path = Path(path)
    raw_pages = load_pages(path, dpi=dpi)
    doc = DocumentRead(source=path.name, page_count=len(raw_pages))
    for idx, page in enumerate(raw_pages):
        norm, turns = normalise_page_turns(page.image, page.dpi)
        c = classify_page(norm, templates, engine, memory)
        doc.pages.append(c.layout.image)
        doc.rotations.append((turns + c.quarter_turns) % 4)
        if c.template is None or c.located is None:
            doc.forms.append(FormResult(source=path.name, template=None, classification_score=round(c.score, 3), page_indices=[idx],
                                        status="needs_review",
                                        reasons=[f"{idx + 1}ページ目はどの帳票定義にも一致しません（一致度 {c.score:.0%}）。帳票の種類を確認してください。"]))
            continue
        form = read_fields(c.template, c.layout, c.located, engine, page_index=idx)
        form.source = path.name
        form.classification_score = round(c.score, 3)
        doc.forms.append(form)
    return doc


def _crop(img: np.ndarray, c, inset: int = INSET) -> np.ndarray:
    # Clipped at 0: a region reaching over the page's top or left edge must not wrap round.
    return img[max(0, c.y + inset): c.y + c.h - inset, max(0, c.x + inset): c.x + c.w - inset]


def _target_crop(clean: np.ndarray, t: Target) -> np.ndarray:
    if t.parts:
        # Digit boxes: a digit written close to its box's side must survive (cutting 12% deep
        # turned a 6 at the left edge into a 5), while the side's remains must go (they read as 1).
        return hconcat([_without_border_remains(_crop(clean, p)) for p in t.parts])
    return _crop(clean, t.box)


def _without_border_remains(crop: np.ndarray) -> np.ndarray:
    """Whiten ink blobs that span almost the whole crop's height or width: what is left of a
    box's ruled side after line removal. A written digit is at most about half the box high."""
    n, labels, stats = components((crop < 150).astype(np.uint8), connectivity=8)
    h, w = crop.shape[:2]
    out = crop.copy()
    for i in range(1, n):
        bw_, bh = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]
        if (bh >= 0.75 * h and bw_ <= 0.2 * w) or (bw_ >= 0.75 * w and bh <= 0.2 * h):
            out[labels == i] = 255
    return out


def _line_crop(lined: np.ndarray, clean: np.ndarray, t: Target, erase: list[Cell]) -> np.ndarray:
    """A text value as ink on white paper (:func:`ocr.reading.ink_on_white`), the *erase* regions
    (page coordinates) whitened; blank when the page-wide threshold sees no ink."""
    if trim(_crop(clean, t.box)) is None:
        return np.full((20, 20), 255, np.uint8)  # blank: the page-wide threshold sees no ink
    crop = _crop(lined, t.box)
    if erase:
        crop = crop.copy()
        x0, y0 = max(0, t.box.x + INSET), max(0, t.box.y + INSET)
        for c in erase:
            crop[max(0, c.y - y0): max(0, c.y + c.h - y0), max(0, c.x - x0): max(0, c.x + c.w - x0)] = 255
    # Not widened at the 姓/名 gap: handwriting-like jitter makes the widest gap fall inside a
    # name ('イ トウマユミ'), and both models then follow the widened gap (measured: 2 silent errors).
    return one_line(ink_on_white(crop))


def _cell_text(engine: OcrEngine, lined: np.ndarray, cell) -> str:
    """A printed cell read alone at full resolution, as a value line is ('' when blank)."""
    cut = trim(ink_on_white(_crop(lined, cell)))
    return read_trimmed(engine, cut, "jpn").text if cut is not None else ""


def _ring_texts(engine: OcrEngine, lined: np.ndarray, ring: Cell) -> list[str]:
    """The text a ring encloses, read at full resolution twice: inside the ring's stroke, and
    with the stroke erased (a tight ring cuts through the glyphs it touches)."""
    bare = trim(ink_on_white(without_ring(lined, ring)))
    return [_cell_text(engine, lined, _uninset(ring_inside(ring))), read_trimmed(engine, bare, "jpn").text if bare is not None else ""]


def _label_confirmed(engine: OcrEngine, lined: np.ndarray, t: Target, labels: list[str], cells: Sequence[Cell] = ()) -> bool:
    """Whether a label the half-resolution layout pass garbled (監護 read 監議) reads as one of
    its synonyms when its cell is read alone at full resolution, as a value line is. Only then
    is the field's place certain; otherwise a clerk confirms it (a wrong cell must not pass)."""
    if t.label_box is None:
        return False
    # A label inside the value's box has its words' own box, not a cell: read it whole, not inset.
    box = t.label_box if t.label_box in cells else _uninset(t.label_box)
    return best_score(_cell_text(engine, lined, box), labels) >= MATCH


def _second(layout: PageLayout, t: Target) -> str:
    return join_words(layout.words_in(t.box))


def read_fields(tpl: FormTemplate, layout: PageLayout, located: Located, engine: OcrEngine, *, page_index: int = 0) -> FormResult:
    clean = layout.clean()
    lines: dict[str, np.ndarray] = {}  # text, kana, dates: read per line by two models
    codes: dict[str, np.ndarray] = {}  # digit fields, page-wide threshold, ruled lines removed
    code_checks: dict[str, np.ndarray] = {}  # the same on the crop's own threshold
    code_greys: dict[str, np.ndarray] = {}  # the same as ink on white, for the third model
    inputs: dict[str, FieldInput] = {}
    lined = layout.image.copy()
    lined[layout.lines > 0] = 255  # ruled lines whitened; no page-wide threshold yet
    recover_unread_labels(tpl, layout, located, lambda cell: _cell_text(engine, lined, cell))
    recover_column_rows(tpl, layout, located, lambda cell: _cell_text(engine, lined, cell))
    _confirm_rings(tpl, located, lambda ring: _ring_texts(engine, lined, ring))
    segs = segments(layout)

    def want(key: str, name: str, ftype: FieldType, label: str, required: bool, length: int | None, t: Target | None,
             within_years: int | None) -> None:
        code = reading_kind(ftype) == "digits"
        # Names, kana, addresses, dates: each line read alone by two separately trained models
        # (see _read_lines); the half-resolution layout words are no match for that check. Codes:
        # the layout words are a fourth reading, taken at another size and in the page's context
        # (it flagged a recipient number that three full-resolution readings agreed on wrongly).
        inputs[key] = FieldInput(name, ftype, label, required, length, t, None, _second(layout, t) if t and code else None,
                                 two_models=t is not None and not code, within_years=within_years)
        if t is None:
            return
        if ftype == FieldType.date_wareki:
            inputs[key].era_choice = era_choice(layout, t, segs, lambda cell: _cell_text(engine, lined, _uninset(cell)))
        if not code:
            choice = inputs[key].era_choice
            lines[key] = _line_crop(lined, clean, t, choice.printed if choice is not None else [])
            return
        codes[key] = _target_crop(clean, t)
        grey = _target_crop(lined, t)
        code_checks[key] = otsu(grey)
        code_greys[key] = ink_on_white(grey, code_checks[key])

    for spec in tpl.fields:
        if spec.type in (FieldType.checkbox, FieldType.choice):
            continue
        if spec.type == FieldType.table:
            for r, row in enumerate(located.tables.get(spec.name, [])):
                for col in spec.columns:
                    if col.type in (FieldType.checkbox, FieldType.choice):
                        continue
                    want(f"{spec.name}.{r}.{col.name}", col.name, col.type, col.labels[0] if col.labels else col.name,
                         col.required, None, row.get(col.name), col.within_years)
            continue
        want(spec.name, spec.name, spec.type, spec.label or spec.name, spec.required, spec.length, located.fields.get(spec.name),
             spec.within_years)

    # Codes: eng one crop at a time (most accurate), eng again on the crop's own threshold, and
    # a separately trained model, so a confident misread (0->6) becomes a disagreement (see
    # fields._code_confirmed). The script model on the grey crop is that third reader (measured
    # on 400 generated codes: right on 90-100% per field where jpn on the threshold was 75-98%,
    # so clean codes stopped being flagged for jpn's misreads); jpn where it is missing.
    # A My Number's check digit does the third reading's job: it is read a third time only when
    # the first reading fails it. All crops are small: these calls are cheap.
    readings = read_each(engine, codes)
    recheck = read_each(engine, code_checks)
    code_lang = SECOND_LANG if lang_available(engine, SECOND_LANG) else "jpn"
    third = {key: read_line(engine, crop, code_lang, whitelist=DIGIT_WHITELIST) for key, crop in code_greys.items()
             if inputs[key].type != FieldType.my_number}
    code_tie_breaks = {key: functools.partial(read_line, engine, crop, code_lang, whitelist=DIGIT_WHITELIST)
                       for key, crop in code_greys.items() if inputs[key].type == FieldType.my_number}
    first, second, tie_breaks = _read_lines(engine, lines, {k for k, fi in inputs.items() if two_part(fi.type, fi.name)},
                                            {k for k, fi in inputs.items() if fi.type == FieldType.kana})
    readings.update(first)
    recheck.update(second)
    for key, fi in inputs.items():
        fi.reading = readings.get(key)
        fi.recheck = recheck.get(key)
        fi.third = third.get(key)
        fi.tie_break = tie_breaks.get(key) or code_tie_breaks.get(key)

    form = FormResult(source="", template=tpl.id, page_indices=[page_index])
    for spec in tpl.fields:
        label = spec.label or spec.name
        if spec.absent_ok and spec.name in located.absent and located.fields.get(spec.name) is None:
            # This layout does not ask it: no value, no doubt; the scenario's default applies.
            form.fields[spec.name] = FieldResult(name=spec.name, type=spec.type, label=label, state=FieldState.absent, confidence=1.0)
        elif spec.type == FieldType.checkbox:
            form.fields[spec.name] = checkbox_field(spec.name, label, layout.bw, located.fields.get(spec.name), page_index, spec.answers)
        elif spec.type == FieldType.choice:
            form.fields[spec.name] = choice_field(spec.name, label, spec.options, layout.bw, located.fields.get(spec.name), page_index)
        elif spec.type == FieldType.table:
            form.fields[spec.name] = _table_field(spec, located.tables.get(spec.name, []), inputs, layout, page_index)
        else:
            form.fields[spec.name] = text_field(inputs[spec.name], page_index)
    specs = {spec.name: spec for spec in tpl.fields}
    for name, t in located.fields.items():
        if t is None or not t.weak_label or name not in form.fields:
            continue
        if not _label_confirmed(engine, lined, t, specs[name].locator.labels, layout.cells):
            form.fields[name].reasons.append(Doubt.low_confidence)
            form.fields[name].messages.append("項目名がはっきり読み取れないため、欄の位置を確認してください")
    for name, t in located.fields.items():
        if t is not None and t.unsure and name in form.fields:
            form.fields[name].reasons.append(Doubt.low_confidence)
            form.fields[name].messages.append("記入欄の位置がはっきりしないため、読み取った欄を確認してください")
    cross_checks(form.fields)
    for fr in form.fields.values():
        if fr.state != FieldState.absent and fr.reasons and fr.value in (None, "", []):
            fr.state = FieldState.unread
    doubtful = form.doubtful_fields()
    form.status = "needs_review" if doubtful else "ready"
    if doubtful:
        form.reasons.append("確認が必要な項目: " + "、".join(form.fields[n].label or n for n in doubtful))
    return form


def _uninset(c: Cell) -> Cell:
    """A box grown by INSET, so that reading it (which cuts INSET inside) reads the box itself."""
    return Cell(c.x - INSET, c.y - INSET, c.w + 2 * INSET, c.h + 2 * INSET)


def _confirm_rings(tpl: FormTemplate, located: Located, read: Callable[[Cell], list[str]]) -> None:
    """Option groups answered by a ring: the inside of each ring read at full resolution names the
    option (the layout pass garbles it). A reading that names one option settles the choice; an
    inference with no such reading stays inferred, and the reader flags it."""
    groups: list[tuple[Target, list[str]]] = []
    for spec in tpl.fields:
        if spec.type == FieldType.table:
            for col in spec.columns:
                groups += [(row[col.name], options_of(col)) for row in located.tables.get(spec.name, []) if col.name in row]
        elif (t := located.fields.get(spec.name)) is not None:
            groups.append((t, options_of(spec)))
    for t, options in groups:
        ring = t.circled
        if ring is None or t.squares or not options:
            continue
        insides = [text.replace(" ", "") for r in ring.rings for text in read(r)]
        # Whole in the reading counts too: the ring's own strokes read as ^ 、 ( around the word.
        named = {opt for text in insides for opt in options if best_score(text, [opt]) >= MATCH or opt in text}
        if len(named) == 1:
            ring.option, ring.count, ring.inferred = named.pop(), 1, False


def _read_lines(engine: OcrEngine, crops: dict[str, np.ndarray], spaced_keys: set[str],
                kana_keys: set[str] = frozenset()) -> tuple[dict[str, Reading], dict[str, Reading], dict[str, Callable[[], Reading]]]:
    """Each text line (name, kana, address, date, relation) read alone (``--psm 7``) by two
    separately trained models, plus a third on call for when the two disagree.

    Read in a stacked strip (one call for all names), jpn got 77% of names right; alone, on
    the crop's own threshold, 86%. Two models that agree are right far more often than either
    one's confidence says, which is what lets a clean value pass without a human look.

    Which two (measured on 1,229 generated line crops, see bench/README.md "OCR"): names are
    read by jpn and jpn_full, the reader of kanji names (97% alone; the pair agreed on 93% of
    names and was never wrong then, where jpn and the script model agreed on 92% and were wrong
    on 4); everything else by jpn and the script model (dates 98-99%, kana 98-99%), with
    jpn_full the third. A disagreement asks the third model (see fields._tie_break), so only
    about one line in twelve is read three times.
    Without the second model the check reading is jpn at another size: less independent,
    so the confidence rule for names stays strict (see fields.text_field).
    """
    first: dict[str, Reading] = {}
    second: dict[str, Reading] = {}
    third: dict[str, Callable[[], Reading]] = {}
    if not crops:
        return first, second, third
    installed = [lang for lang in (FULL_LANG, SECOND_LANG) if lang_available(engine, lang)]
    for key, crop in crops.items():
        t = trim(crop)  # once: every reading and the 姓/名 blank work on the same cut
        name = key in spaced_keys and key not in kana_keys
        order = installed if name else installed[::-1]  # names: jpn_full second; the rest: the script model
        if t is None:
            first[key], second[key] = Reading("", 1.0, 1.0, 0), Reading("", 1.0, 1.0, 0, independent=bool(order))
            continue
        first[key] = read_trimmed(engine, t, "jpn")
        if order:
            second[key] = read_trimmed(engine, t, order[0])
        else:  # jpn again at another size: a different look, though not an independent model
            second[key] = read_trimmed(engine, t, "jpn", scale=LINE_SCALE * 1.4)
        second[key].independent = bool(order)
        if key in kana_keys:
            _kana_spelling(first[key], second[key])
        at, own = None, set()
        if key in spaced_keys:
            # The 姓/名 space from the image, not from each model's word breaks.
            at = _name_gap(t, [first[key], second[key]], key in kana_keys)
            own = {first[key].two_part, second[key].two_part}
            for rd in (first[key], second[key]):
                _place_space(rd, t, at, own)
        if len(order) > 1:
            third[key] = functools.partial(_third_reading, engine, t, order[1], key in spaced_keys, at, own, key in kana_keys)
    return first, second, third


def _kana_spelling(*readings: Reading) -> None:
    """Kana readings with what katakana spelling rules out undone (values.kana_orthography), before
    they are compared or split: an echoed small kana (イィトウ) would count as a character and
    move the 姓/名 split the widths give ('イィ トウリン')."""
    for rd in readings:
        rd.text, rd.two_part = kana_orthography(rd.text), kana_orthography(rd.two_part)


def _third_reading(engine: OcrEngine, t: np.ndarray, lang: str, spaced: bool, at: float | None, own: set[str],
                   kana: bool = False) -> Reading:
    rd = read_trimmed(engine, t, lang)
    rd.independent = True
    if kana:
        _kana_spelling(rd)
    if spaced:
        _place_space(rd, t, at, own)
    return rd


def _place_space(rd: Reading, t: np.ndarray, at: float | None, own: set[str]) -> None:
    """Set ``rd.two_part`` (姓 名) from the image's blank at ``at``, and say when it is a guess."""
    if at is not None and (parts := split_at(rd, t, at)) is not None:
        # Trusted when one model's own word break says the same; otherwise it is
        # a guess from widths (narrow kana like イ fool it) and a human checks it.
        rd.split_unsure = parts not in own
        rd.two_part = parts
    else:
        # No answer from the image: a model's break is trusted only when it made
        # exactly one ('コバヤシ マコ ト' put the space in the wrong one of two).
        rd.split_unsure = rd.text.strip().count(" ") != 1
        if not rd.split_unsure:
            rd.two_part = rd.text.strip()  # join_two's widest box gap is not it: boxes overlap
    natural = rd.text.strip()
    if natural.count(" ") == 1 and natural != rd.two_part:
        # The model saw one clear break elsewhere: narrow kana (ト, イ) make the widest
        # blank fall inside a name ('コバヤシマコ ト'), so neither guess is trusted.
        rd.split_unsure = True


def _name_gap(t: np.ndarray, readings: list[Reading], kana: bool) -> float | None:
    """The blank between 姓 and 名: the widest one, except that in kana a blank that would leave
    one kana alone in every reading is passed over for the next that leaves none alone in any
    (narrow kana such as イ and ト carry wide blanks beside them: 'イ トウマユミ'; one-kana family
    or given names are rare, while one-kanji given names are common, so kanji keep the widest).
    Every reading must agree, because a reading that dropped a character miscounts the split."""
    gaps = blank_runs(t)
    if not gaps:
        return None

    def shortest_parts(at: float) -> list[int | None]:
        splits = (split_at(r, t, at) for r in readings)
        return [None if p is None else min(len(x) for x in p.split(" ")) for p in splits]

    if kana and all(n is not None and n < 2 for n in shortest_parts(gaps[0])):
        for at in gaps[1:]:
            if all(n is not None and n >= 2 for n in shortest_parts(at)):
                return at
    return gaps[0]


def _table_field(spec, rows: list[dict[str, Target]], inputs: dict[str, FieldInput], layout: PageLayout, page: int) -> FieldResult:
    fr = FieldResult(name=spec.name, type=FieldType.table, label=spec.label or spec.name, rows=[], value=[], confidence=1.0)
    if not rows:
        fr.reasons.append(Doubt.not_found)
        fr.messages.append(f"「{fr.label}」の表が見つかりません")
        fr.confidence = 0.0
        return fr
    around = Cell.around([t.box for row in rows for t in row.values()])
    fr.box = Box(page=page, x=around.x, y=around.y, w=around.w, h=around.h)
    for r, row in enumerate(rows):
        cells: dict[str, FieldResult] = {}
        written = False
        for i, col in enumerate(spec.columns):
            key = f"{spec.name}.{r}.{col.name}"
            if col.type == FieldType.checkbox:
                cells[col.name] = checkbox_field(col.name, col.labels[0] if col.labels else col.name, layout.bw, row.get(col.name), page,
                                                 col.answers)
                continue
            fi = inputs[key]
            text = fi.reading.text.strip() if fi.reading else ""
            if text and col.labels and best_score(text, col.labels) >= MATCH:
                text = ""  # the column's printed label caught in an empty card's region, no entry
            # An entry is written when its first column is, or any cell holds a digit: a row's
            # pre-printed text (「平成・令和　年　月　日」, 同居・別居) alone is an unused row.
            if text and (i == 0 or any(ch.isdigit() for ch in text)):
                written = True
            cells[col.name] = text_field(fi, page)
        if not written:
            continue  # an unused row of the table
        fr.rows.append(cells)
        fr.value.append({k: v.value for k, v in cells.items()})
    if not fr.rows:
        fr.reasons.append(Doubt.missing_required)
        fr.messages.append("児童の記入がありません")
    fr.confidence = min([c.confidence for row in fr.rows for c in row.values()] or [0.0])
    return fr
